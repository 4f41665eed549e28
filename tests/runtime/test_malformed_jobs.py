"""A job whose stored data or options are not JSON, or whose timestamp is not a number, fails
at once, whatever its route.

Before, the failure path itself decoded them: the job stayed active, stalled, and
was taken again, forever (``ats`` climbing). Seen in an adversarial run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bullmq_codegen import Job, create_queue_config
from bullmq_codegen.runtime import JobFailedError, JobRoute, Producer, Runtime
from bullmq_codegen.testing import RedisSource

from ..cases_support import Ping, ping


async def bare(job: Job[None]) -> str:
    return "ran"


@pytest.fixture
async def runtime(redis: RedisSource, prefix: str) -> AsyncIterator[Runtime]:
    config = create_queue_config(
        queues={
            "pings": {
                "workers": {
                    "ping": {"schema": Ping, "processor": ping},
                    "bare": {"processor": bare},
                }
            }
        },
        connection=redis.url,
        prefix=prefix,
    )
    runtime = Runtime(config)
    yield runtime
    await runtime.close()


ROUTES = [
    JobRoute(queue="pings", name="ping", schema=Ping, processor=ping),
    JobRoute(queue="pings", name="bare", schema=None, processor=bare),
]


@pytest.mark.parametrize(
    ("name", "field", "stored", "reason"),
    [
        ("ping", "data", "{not json", "its data is not JSON"),
        ("bare", "data", "{not json", "its data is not JSON"),
        ("nobody", "data", "{not json", "no processor for job name 'nobody'"),
        ("ping", "opts", "not json", "its options are not JSON"),
        ("bare", "opts", "[1, 2", "its options are not JSON"),
        ("ping", "timestamp", "soon", "its timestamp is not a number ('soon')"),
        ("nobody", "timestamp", "soon", "no processor for job name 'nobody'"),
    ],
)
async def test_data_or_options_that_are_not_json_fail_the_job_at_once(
    runtime: Runtime, name: str, field: str, stored: str, reason: str
) -> None:
    queue = runtime.queue("pings")
    producer: Producer[Any] = Producer(queue, "ping", Ping)
    job = await producer.enqueue(Ping(host="h"), {"attempts": 3})
    ctx = runtime.context("pings")
    # as a faulty producer elsewhere would have written it
    await ctx.client.hset(ctx.job_key(job.id), mapping={"name": name, field: stored})
    async with runtime.workers(ROUTES):
        with pytest.raises(JobFailedError) as failed:
            await job.result(timeout=10)
    assert reason in failed.value.reason
    assert failed.value.attempts_made == 1  # failed for good on its first start, not retried
    fields = await ctx.client.hgetall(ctx.job_key(job.id))
    assert fields["ats"] == "1"  # started once: no stalled-and-taken-again cycle
    assert fields[field] == stored  # left as found, for whoever looks into it


async def test_a_job_of_a_name_nobody_runs_counts_as_failed_in_the_heartbeat(
    runtime: Runtime,
) -> None:
    """The dashboard and ``status`` read failures from the heartbeats when metrics are off."""
    queue = runtime.queue("pings")
    producer: Producer[Any] = Producer(queue, "ping", Ping)
    job = await producer.enqueue(Ping(host="h"), {})
    ctx = runtime.context("pings")
    await ctx.client.hset(ctx.job_key(job.id), "name", "nobody")  # a producer of another deploy
    async with runtime.workers(ROUTES) as group:
        with pytest.raises(JobFailedError):
            await job.result(timeout=10)
        heartbeat = group.workers["pings"].heartbeat()
    assert (heartbeat.failed, heartbeat.completed) == (1, 0)
