"""BullMQ worker options beyond concurrency and locks: each does what Node's worker does with it.

``maxStartedAttempts``, ``skipStalledCheck``, ``skipLockRenewal``, ``metrics`` (read back
by Node's ``Queue.getMetrics``) and ``maximumRateLimitDelay``, run by our workers on a
real Redis.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bullmq_codegen import Job, WorkerOptions, create_queue_config
from bullmq_codegen.runtime import JobFailedError, JobRoute, Producer, Runtime
from bullmq_codegen.testing import RedisSource
from bullmq_codegen.testing.node import node_bullmq

from ..cases_support import Ping
from ..helpers import eventually

SCRIPT = Path(__file__).parent / "node" / "control.js"


class Work:
    """What the processor does, as the test sets it: sleep, then fail or return the host."""

    def __init__(self) -> None:
        self.sleep = 0.0
        self.fail = False
        self.started: list[str] = []


WORK = Work()


async def work(job: Job[Ping]) -> str:
    """The processor of every test here, driven by ``WORK``."""
    WORK.started.append(job.id)
    await asyncio.sleep(WORK.sleep)
    if WORK.fail:
        raise RuntimeError(f"failed attempt {job.attempts_made + 1}")
    return job.payload.host


Setup = Callable[
    [WorkerOptions], Awaitable[tuple[Runtime, Producer[Ping], JobRoute[Any, Any, Any]]]
]


@pytest.fixture
async def setup(redis: RedisSource, prefix: str) -> AsyncIterator[Setup]:
    """Builds the queue ``pings`` with one worker of the given options (closed after the test)."""
    runtimes: list[Runtime] = []
    WORK.__init__()

    async def build(
        options: WorkerOptions,
    ) -> tuple[Runtime, Producer[Ping], JobRoute[Any, Any, Any]]:
        config = create_queue_config(
            queues={
                "pings": {
                    "workers": {"ping": {"schema": Ping, "processor": work, "options": options}}
                }
            },
            connection=redis.url,
            prefix=prefix,
        )
        runtime = Runtime(config)
        runtimes.append(runtime)
        route = JobRoute(queue="pings", name="ping", schema=Ping, processor=work)
        return runtime, Producer(runtime.queue("pings"), "ping", Ping), route

    yield build
    for runtime in runtimes:
        await runtime.close()


async def test_max_started_attempts_fails_a_job_started_too_often(setup: Setup) -> None:
    runtime, producer, route = await setup({"maxStartedAttempts": 2})
    WORK.fail = True
    job = await producer.enqueue(Ping(host="a"), {"attempts": 5})
    async with runtime.workers([route]):
        with pytest.raises(JobFailedError) as failed:
            await job.result(timeout=10)
    # started twice (and failed twice), the third start is refused without running it
    assert failed.value.reason == "job started more than allowable limit"
    assert WORK.started == [job.id, job.id]
    ctx = runtime.context("pings")
    fields = await ctx.client.hgetall(ctx.job_key(job.id))
    assert (fields["ats"], fields["atm"]) == ("3", "3")


async def test_without_max_started_attempts_every_attempt_runs(setup: Setup) -> None:
    runtime, producer, route = await setup({})
    WORK.fail = True
    job = await producer.enqueue(Ping(host="a"), {"attempts": 3})
    async with runtime.workers([route]):
        with pytest.raises(JobFailedError) as failed:
            await job.result(timeout=10)
    assert failed.value.reason == "failed attempt 3"
    assert len(WORK.started) == 3


@pytest.mark.parametrize("skip", [True, False])
async def test_skip_stalled_check_leaves_the_check_to_others(setup: Setup, skip: bool) -> None:
    runtime, producer, route = await setup({"skipStalledCheck": skip, "stalledInterval": 60_000})
    job = await producer.enqueue(Ping(host="a"), {})
    ctx = runtime.context("pings")
    async with runtime.workers([route]) as workers:
        await job.result(timeout=10)
        assert workers.workers["pings"].settings.skip_stalled_check is skip
    # BullMQ's stalled-jobs script marks each check with this key (for stalledInterval)
    assert bool(await ctx.client.exists(ctx.keys["stalled-check"])) is not skip


@pytest.mark.parametrize("skip", [True, False])
async def test_skip_lock_renewal_lets_a_long_job_lose_its_lock(setup: Setup, skip: bool) -> None:
    runtime, producer, route = await setup({"skipLockRenewal": skip, "lockDuration": 1_000})
    WORK.sleep = 2.0
    job = await producer.enqueue(Ping(host="a"), {})
    ctx = runtime.context("pings")
    lock = ctx.job_key(job.id) + ":lock"
    async with runtime.workers([route]):
        await eventually(lambda: _exists(runtime, lock), timeout=5)
        await asyncio.sleep(1.5)  # past lockDuration, while the job still runs
        assert bool(await ctx.client.exists(lock)) is not skip
        await asyncio.sleep(1.0)


async def test_metrics_are_recorded_as_node_reads_them(
    setup: Setup, redis: RedisSource, prefix: str
) -> None:
    modules = node_bullmq()
    if modules is None:
        pytest.skip("Node.js and npm (and the npm registry) are needed for the interop check")
    runtime, producer, route = await setup({"metrics": {"maxDataPoints": 60}})
    jobs = [await producer.enqueue(Ping(host=f"h{i}"), {}) for i in range(5)]
    async with runtime.workers([route]):
        assert [await job.result(timeout=10) for job in jobs] == [f"h{i}" for i in range(5)]
    WORK.fail = True
    failing = await producer.enqueue(Ping(host="x"), {})
    async with runtime.workers([route]):
        with pytest.raises(JobFailedError):
            await failing.result(timeout=10)
    out = subprocess.run(
        ["node", str(SCRIPT), "metrics", redis.url, prefix, "pings"],
        env={**os.environ, "NODE_PATH": str(modules)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    metrics = json.loads(out)
    assert metrics["completed"]["count"] == 5
    assert metrics["failed"]["count"] == 1


async def test_without_metrics_nothing_is_recorded(setup: Setup) -> None:
    runtime, producer, route = await setup({})
    job = await producer.enqueue(Ping(host="a"), {})
    async with runtime.workers([route]):
        await job.result(timeout=10)
    ctx = runtime.context("pings")
    assert not await ctx.client.exists(ctx.keys[""] + "metrics:completed")
    assert await ctx.client.exists(ctx.keys["completed"])


@pytest.mark.parametrize("cap", [300, None])
async def test_maximum_rate_limit_delay_bounds_a_rate_limited_wait(
    setup: Setup, cap: int | None
) -> None:
    options: WorkerOptions = {"limiter": {"max": 1, "duration": 60_000}}
    if cap is not None:
        options["maximumRateLimitDelay"] = cap
    runtime, producer, route = await setup(options)
    first = await producer.enqueue(Ping(host="first"), {})
    async with runtime.workers([route]):
        await first.result(timeout=10)
        # rate limited for a minute now; a delayed job falls due meanwhile
        later = await producer.enqueue(Ping(host="later"), {"delay": 200})
        await asyncio.sleep(2.0)
        state = await runtime.queue("pings").get_job_state(later.id)
    # a capped wait wakes the worker, whose fetch promotes the due job (still not run: limited);
    # an uncapped one sleeps for the rest of the minute, leaving it delayed
    assert state == ("waiting" if cap is not None else "delayed")


async def _exists(runtime: Runtime, key: str) -> bool:
    return bool(await runtime.context("pings").client.exists(key))
