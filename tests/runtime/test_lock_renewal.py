"""Lock renewal reports a lost lock only when it is lost (issue 12, defect 2).

Under load the worker warned "lost the locks of running jobs" for jobs that had
completed between the renewal's snapshot and Redis's answer: their lock was gone
because they finished, not because another worker took them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from bullmq_codegen import Job, WorkerOptions, create_queue_config
from bullmq_codegen.runtime import JobRoute, Producer, Runtime
from bullmq_codegen.runtime.worker.events import WorkerListener
from bullmq_codegen.testing import RedisSource

from ..helpers import eventually

SHORT_JOBS = 4000


class LostLocks(WorkerListener):
    """The job ids every lost-lock report named."""

    def __init__(self) -> None:
        self.reported: list[str] = []

    def on_lock_renewal_failed(self, queue: str, job_ids: Sequence[str]) -> None:
        self.reported.extend(job_ids)


async def short(job: Job[None]) -> str:
    await asyncio.sleep(0.002 * (int(job.id) % 5))  # 0 to 8 ms: completions all the time
    return job.id


gates: dict[str, asyncio.Event] = {}
"""``holding``: the long job runs; ``released``: it may end (made per test, on its loop)."""


async def long(job: Job[None]) -> str:
    gates["holding"].set()
    await gates["released"].wait()
    return job.id


def runtime_for(redis: RedisSource, prefix: str, processor: Any, options: WorkerOptions) -> Runtime:
    config = create_queue_config(
        queues={"q": {"workers": {"job": {"processor": processor, "options": options}}}},
        connection=redis.url,
        prefix=prefix,
    )
    return Runtime(config)


@pytest.fixture
async def busy(redis: RedisSource, prefix: str) -> AsyncIterator[Runtime]:
    # renewal every 5 ms, among jobs completing every few hundred microseconds
    runtime = runtime_for(
        redis, prefix, short, {"concurrency": 50, "lockDuration": 5000, "lockRenewTime": 10}
    )
    yield runtime
    await runtime.close()


async def test_jobs_that_complete_during_a_renewal_are_not_reported_lost(busy: Runtime) -> None:
    route = JobRoute(queue="q", name="job", schema=None, processor=short)
    lost = LostLocks()
    jobs = await Producer(busy.queue("q"), "job", None).enqueue_count(SHORT_JOBS, {})
    ctx = busy.context("q")

    async def all_done() -> bool:
        return int(await ctx.client.zcard(ctx.keys["completed"])) == SHORT_JOBS

    async with busy.workers([route], listeners=[lost]):
        await eventually(all_done, timeout=120, interval=0.1)
    assert len(jobs) == SHORT_JOBS
    assert lost.reported == []


@pytest.fixture
async def slow(redis: RedisSource, prefix: str) -> AsyncIterator[Runtime]:
    gates.update(holding=asyncio.Event(), released=asyncio.Event())
    runtime = runtime_for(redis, prefix, long, {"lockDuration": 2000, "lockRenewTime": 100})
    yield runtime
    gates["released"].set()
    await runtime.close()


@pytest.mark.parametrize("how", ["deleted", "taken"])
async def test_a_lock_really_lost_is_reported(slow: Runtime, how: str) -> None:
    route = JobRoute(queue="q", name="job", schema=None, processor=long)
    lost = LostLocks()
    job = await Producer(slow.queue("q"), "job", None).enqueue(None, {})
    ctx = slow.context("q")
    lock = ctx.job_key(job.id) + ":lock"
    async with slow.workers([route], listeners=[lost]):
        await asyncio.wait_for(gates["holding"].wait(), 10)
        if how == "deleted":
            await ctx.client.delete(lock)
        else:  # as a worker that took it for stalled would
            await ctx.client.set(lock, "another-worker:1", px=60_000)

        async def reported() -> bool:
            return job.id in lost.reported

        await eventually(reported, timeout=10)
        gates["released"].set()
