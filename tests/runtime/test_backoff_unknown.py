"""A job whose backoff BullMQ cannot compute fails once, for good, saying why (issue 12,
defect 6): before, it was logged "will be retried" twice and ended in "job stalled more
than allowable limit".

Our producers refuse such options; a Node producer, or another tool, may store them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bullmq_codegen import Job, create_queue_config
from bullmq_codegen.runtime import JobFailedError, JobRoute, Producer, Runtime
from bullmq_codegen.runtime.worker.events import JobInfo, WorkerListener
from bullmq_codegen.testing import RedisSource


class Failures(WorkerListener):
    """Every failed attempt the worker told its listeners of."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bool, str]] = []

    def on_failed(
        self, job: JobInfo, error: BaseException, *, will_retry: bool, duration: float
    ) -> None:
        self.seen.append((job.id, will_retry, str(error)))


async def broken(job: Job[None]) -> str:
    raise RuntimeError("the service is down")


ROUTE = JobRoute(queue="q", name="job", schema=None, processor=broken)


@pytest.fixture
async def runtime(redis: RedisSource, prefix: str) -> AsyncIterator[Runtime]:
    config = create_queue_config(
        queues={"q": {"workers": {"job": {"processor": broken}}}},
        connection=redis.url,
        prefix=prefix,
    )
    runtime = Runtime(config)
    yield runtime
    await runtime.close()


@pytest.mark.parametrize(
    ("backoff", "named"),
    [
        ({"type": "nope", "delay": 10}, "backoff type 'nope'"),
        ("nope", "backoff 'nope'"),
        ([1000], "backoff [1000]"),
    ],
)
async def test_a_backoff_bullmq_cannot_compute_fails_the_job_once_naming_it(
    runtime: Runtime, backoff: Any, named: str
) -> None:
    job = await Producer(runtime.queue("q"), "job", None).enqueue(None, {"attempts": 3})
    ctx = runtime.context("q")
    # as a Node producer would store it
    opts = {"attempts": 3, "backoff": backoff}
    await ctx.client.hset(ctx.job_key(job.id), "opts", json.dumps(opts))
    failures = Failures()
    async with runtime.workers([ROUTE], listeners=[failures]):
        with pytest.raises(JobFailedError) as failed:
            await job.result(timeout=15)
    reason = failed.value.reason
    assert "the service is down" in reason
    assert named in reason, reason
    assert failed.value.attempts_made == 1  # not retried, not stalled
    assert [(job_id, will_retry) for job_id, will_retry, _ in failures.seen] == [(job.id, False)]
    fields = await ctx.client.hgetall(ctx.job_key(job.id))
    assert fields["ats"] == "1"
    assert "stc" not in fields or fields["stc"] == "0"
