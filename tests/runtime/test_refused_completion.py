"""An outcome Redis refused is not counted as done (issue 12, defect 4).

When a job's lock is gone by the time its processor ends, BullMQ refuses to
finish it ("Missing lock for job ... moveToFinished"): the job stays active and a
stalled check gives it back. Before, the worker still counted it completed (or
failed) and told its listeners so.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bullmq_codegen import Job, create_queue_config
from bullmq_codegen.runner.listeners import Metrics, MetricsListener
from bullmq_codegen.runtime import JobRoute, Producer, Runtime
from bullmq_codegen.runtime.worker.events import JobInfo, Outcome, WorkerListener
from bullmq_codegen.testing import RedisSource

runs: dict[str, int] = {}
gates: dict[str, asyncio.Event] = {}
"""``holding``: the first run is under way; ``released``: it may end (made per test)."""


async def lose_lock_once(job: Job[None]) -> str:
    """The first run waits to be released, then ends as the test's ``outcome`` says; the
    next run completes at once."""
    runs[job.id] = runs.get(job.id, 0) + 1
    if runs[job.id] == 1:
        gates["holding"].set()
        await gates["released"].wait()
        if runs["outcome"] == 0:
            raise RuntimeError("failed after its lock was lost")
    return job.id


class Outcomes(WorkerListener):
    """What the worker told its listeners."""

    def __init__(self) -> None:
        self.completed: list[str] = []
        self.failed: list[str] = []
        self.not_recorded: list[tuple[str, Outcome, str]] = []

    def on_completed(self, job: JobInfo, duration: float) -> None:
        self.completed.append(job.id)

    def on_failed(
        self, job: JobInfo, error: BaseException, *, will_retry: bool, duration: float
    ) -> None:
        self.failed.append(job.id)

    def on_not_recorded(self, job: JobInfo, outcome: Outcome, error: BaseException) -> None:
        self.not_recorded.append((job.id, outcome, str(error)))


ROUTE = JobRoute(queue="q", name="job", schema=None, processor=lose_lock_once)


@pytest.fixture
async def runtime(redis: RedisSource, prefix: str) -> AsyncIterator[Runtime]:
    runs.clear()
    gates.update(holding=asyncio.Event(), released=asyncio.Event())
    config = create_queue_config(
        queues={
            "q": {
                "workers": {
                    "job": {
                        "processor": lose_lock_once,
                        # a stalled check every second gives the job back quickly
                        "options": {"lockDuration": 1000, "stalledInterval": 1000},
                    }
                }
            }
        },
        connection=redis.url,
        prefix=prefix,
    )
    runtime = Runtime(config)
    yield runtime
    gates["released"].set()
    await runtime.close()


@pytest.mark.parametrize("outcome", ["completed", "failed"])
async def test_an_outcome_redis_refused_is_neither_counted_nor_lost(
    runtime: Runtime, outcome: Outcome
) -> None:
    runs["outcome"] = 1 if outcome == "completed" else 0
    job = await Producer(runtime.queue("q"), "job", None).enqueue(None, {"attempts": 2})
    ctx = runtime.context("q")
    metrics = Metrics()
    seen = Outcomes()
    async with runtime.workers([ROUTE], listeners=[MetricsListener(metrics), seen]):
        await asyncio.wait_for(gates["holding"].wait(), 10)
        await ctx.client.delete(ctx.job_key(job.id) + ":lock")  # as if it had expired
        gates["released"].set()
        # the stalled check gives it back, and the next run completes it
        assert await job.result(timeout=20) == job.id
    assert runs[job.id] == 2
    assert seen.completed == [job.id]  # the second run only
    assert seen.failed == []
    ((job_id, refused, reason),) = seen.not_recorded
    assert (job_id, refused) == (job.id, outcome)
    assert "Missing lock" in reason

    def sample(name: str, **labels: str) -> float:
        value = metrics.registry.get_sample_value(name, {"queue": "q", "job_name": "job", **labels})
        return value or 0.0

    assert sample("bullmq_jobs_completed_total") == 1
    assert sample("bullmq_jobs_failed_total", final="false") == 0
    assert sample("bullmq_jobs_failed_total", final="true") == 0
    assert sample("bullmq_jobs_not_recorded_total", outcome=outcome) == 1
    fields = await ctx.client.hgetall(ctx.job_key(job.id))
    assert fields["atm"] == "1"  # the refused attempt was not counted in Redis either
