"""A completion Redis ran but whose reply the connection lost is counted once, as completed.

The worker sends a completion again after a lost connection (it may not have run);
when the first sending did run, Redis refuses the second: the job is gone (removed
on completion: ``Missing key``) or completed without its lock (``Missing lock``).
Before, the worker then logged the job as "completed but Redis did not record it"
and counted it nowhere (a 1,000,000-job soak with a Redis kill saw it 23 times).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bullmq_codegen import Job, create_queue_config
from bullmq_codegen.runtime import JobRoute, Producer, Runtime
from bullmq_codegen.runtime.worker.events import JobInfo, Outcome, WorkerListener
from bullmq_codegen.testing import RedisSource

from ..helpers import eventually
from ..redis_proxy import RedisProxy

runs: list[str] = []


async def record(job: Job[None]) -> str:
    runs.append(job.id)
    return "done"


ROUTE = JobRoute(queue="q", name="job", schema=None, processor=record)


class Outcomes(WorkerListener):
    """What the worker told its listeners."""

    def __init__(self) -> None:
        self.completed: list[str] = []
        self.not_recorded: list[tuple[str, Outcome, str]] = []

    def on_completed(self, job: JobInfo, duration: float) -> None:
        self.completed.append(job.id)

    def on_not_recorded(self, job: JobInfo, outcome: Outcome, error: BaseException) -> None:
        self.not_recorded.append((job.id, outcome, str(error)))


@pytest.fixture
async def proxy(redis: RedisSource) -> AsyncIterator[RedisProxy]:
    in_front = RedisProxy(redis.url)
    await in_front.start()
    yield in_front
    await in_front.close()


@pytest.mark.parametrize("remove_on_complete", [True, False])
async def test_a_completion_whose_reply_was_lost_counts_once_as_completed(
    proxy: RedisProxy, redis: RedisSource, prefix: str, remove_on_complete: bool
) -> None:
    runs.clear()
    config = create_queue_config(
        queues={"q": {"workers": {"job": {"processor": record}}}},
        connection=f"redis://127.0.0.1:{proxy.port}/0",
        prefix=prefix,
    )
    runtime = Runtime(config)
    direct = Redis.from_url(redis.url, decode_responses=True)
    try:
        producer: Producer[None] = Producer(runtime.queue("q"), "job", None)
        job = await producer.enqueue(None, {"removeOnComplete": remove_on_complete})
        # BullMQ's finishing script runs; the connection closes before its reply comes back
        proxy.drop_reply = lambda command: (
            b"EVALSHA" in command[:20] and b"returnvalue" in command and not proxy.dropped
        )
        outcomes = Outcomes()
        async with runtime.workers([ROUTE], listeners=[outcomes]) as group:

            async def told() -> bool:
                return bool(outcomes.completed or outcomes.not_recorded)

            await eventually(told)
            heartbeat = group.workers["q"].heartbeat()
        assert len(proxy.dropped) == 1  # the reply was lost, once
        assert outcomes.not_recorded == []
        assert outcomes.completed == [job.id]
        assert (heartbeat.completed, heartbeat.failed) == (1, 0)
        assert runs == [job.id]  # run once
        key = f"{prefix}:q:{job.id}"
        if remove_on_complete:
            assert not await direct.exists(key)
        else:
            assert await direct.hget(key, "returnvalue") == '"done"'
            assert await direct.zscore(f"{prefix}:q:completed", job.id) is not None
        assert await direct.lrange(f"{prefix}:q:active", 0, -1) == []
    finally:
        await direct.aclose()
        await runtime.close()
