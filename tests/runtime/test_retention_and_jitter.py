"""Options bullmq-py leaves behind, honoured as Node BullMQ honours them: backoff ``jitter``
and the ``limit`` of ``removeOnComplete``/``removeOnFail`` (issue 12, defect 6)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bullmq_codegen import Job, create_queue_config
from bullmq_codegen.runtime import JobRoute, Producer, Runtime
from bullmq_codegen.testing import RedisSource

from ..cases_support import Ping
from ..helpers import eventually


async def flaky(job: Job[Ping]) -> str:
    if job.payload.host == "fail":
        raise RuntimeError("down")
    return job.payload.host


ROUTE = JobRoute(queue="pings", name="ping", schema=Ping, processor=flaky)


@pytest.fixture
async def runtime(redis: RedisSource, prefix: str) -> AsyncIterator[Runtime]:
    config = create_queue_config(
        queues={"pings": {"workers": {"ping": {"schema": Ping, "processor": flaky}}}},
        connection=redis.url,
        prefix=prefix,
    )
    runtime = Runtime(config)
    yield runtime
    await runtime.close()


def producer(runtime: Runtime) -> Producer[Any]:
    return Producer(runtime.queue("pings"), "ping", Ping)


@pytest.mark.parametrize("kind", ["fixed", "exponential"])
async def test_jitter_spreads_the_retry_delays(runtime: Runtime, kind: str) -> None:
    jobs = [
        await producer(runtime).enqueue(
            Ping(host="fail"),
            {"attempts": 2, "backoff": {"type": kind, "delay": 60_000, "jitter": 0.5}},
        )
        for _ in range(5)
    ]
    ctx = runtime.context("pings")

    async def all_delayed() -> bool:
        return await ctx.client.zcard(ctx.keys["delayed"]) == len(jobs)

    async with runtime.workers([ROUTE]):
        await eventually(all_delayed, timeout=10)
    delays = [int(await ctx.client.hget(ctx.job_key(job.id), "delay")) for job in jobs]
    # drawn from [delay * (1 - jitter), delay), as Node does: without jitter, all 60000
    assert all(30_000 <= delay < 60_000 for delay in delays), delays
    assert len(set(delays)) > 1, delays


async def test_the_limit_of_removal_by_age_is_kept(runtime: Runtime) -> None:
    old = [await producer(runtime).enqueue(Ping(host=f"old{i}"), {}) for i in range(5)]
    async with runtime.workers([ROUTE]):
        for job in old:
            await job.result(timeout=10)
        await asyncio.sleep(1.1)  # the five are now more than a second old
        new = await producer(runtime).enqueue(
            Ping(host="new"), {"removeOnComplete": {"age": 1, "limit": 2}}
        )
        await new.result(timeout=10)
    ctx = runtime.context("pings")
    # finishing it removed jobs older than 1 s, but at most 2 of them (without the limit: all 5)
    assert await ctx.client.zcard(ctx.keys["completed"]) == 4
