"""Jobs added by the generated producers are stored exactly as bullmq-py's Queue.add stores them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from bullmq import Queue

from bullmq_codegen import create_queue_config
from bullmq_codegen.definitions.options import JobOptions
from bullmq_codegen.runtime import Producer, Runtime
from bullmq_codegen.testing import RedisSource

from ..cases_support import Ping, ping

VOLATILE = {"timestamp", "processedOn"}


@pytest.fixture
async def runtime(redis: RedisSource, prefix: str) -> AsyncIterator[Runtime]:
    config = create_queue_config(
        queues={"pings": {"workers": {"ping": {"schema": Ping, "processor": ping}}}},
        connection=redis.url,
        prefix=prefix,
    )
    runtime = Runtime(config)
    yield runtime
    await runtime.close()


@pytest.fixture
async def raw(redis: RedisSource, prefix: str) -> AsyncIterator[Queue]:
    queue = Queue("pings", {"connection": redis.url, "prefix": prefix})
    yield queue
    await queue.close()


async def stored(runtime: Runtime, job_id: str) -> dict[str, Any]:
    context = runtime.context("pings")
    fields = await context.client.hgetall(context.job_key(job_id))
    decoded = {key: value for key, value in fields.items() if key not in VOLATILE}
    for key in ("data", "opts"):  # JSON: compare values, not the order Lua wrote keys in
        decoded[key] = json.loads(decoded[key])
    return decoded


OPTIONS: list[JobOptions] = [
    {},
    {"delay": 60_000},
    {"priority": 7},
    {"lifo": True, "attempts": 4, "backoff": 250},
    {"backoff": {"type": "exponential", "delay": 100}, "removeOnComplete": {"age": 60, "count": 5}},
    {"deduplication": {"id": "d1", "ttl": 5000}, "keepLogs": 3, "stackTraceLimit": 2},
]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda options: ",".join(options) or "none")
async def test_a_job_is_stored_as_bullmq_stores_it(
    runtime: Runtime, raw: Queue, options: JobOptions
) -> None:
    producer = Producer(runtime.queue("pings"), "ping", Ping)
    ours = await producer.enqueue(Ping(host="h"), options)
    theirs = await raw.add("ping", {"host": "h"}, dict(options))
    assert await stored(runtime, ours.id) == await stored(runtime, str(theirs.id))
    context = runtime.context("pings")
    for state in ("wait", "delayed", "prioritized"):
        members = await (
            context.client.lrange(context.keys[state], 0, -1)
            if state == "wait"
            else context.client.zrange(context.keys[state], 0, -1)
        )
        assert (ours.id in members) == (str(theirs.id) in members)


async def test_custom_ids_and_deduplication_return_the_existing_job(runtime: Runtime) -> None:
    producer = Producer(runtime.queue("pings"), "ping", Ping)
    first = await producer.enqueue(Ping(host="a"), {"jobId": "fixed"})
    again = await producer.enqueue(Ping(host="b"), {"jobId": "fixed"})
    assert first.id == again.id == "fixed"
    deduplicated = [
        await producer.enqueue(Ping(host="c"), {"deduplication": {"id": "x"}}) for _ in range(3)
    ]
    assert len({job.id for job in deduplicated}) == 1
    assert (await runtime.queue("pings").counts()).waiting == 2


async def test_bulk_adds_all_in_one_transaction(runtime: Runtime, raw: Queue) -> None:
    producer = Producer(runtime.queue("pings"), "ping", Ping)
    jobs = await producer.enqueue_bulk([Ping(host=str(i)) for i in range(300)], {"priority": 3})
    assert len({job.id for job in jobs}) == 300
    assert (await runtime.queue("pings").counts()).prioritized == 300
    theirs = await raw.addBulk([{"name": "ping", "data": {"host": "0"}, "opts": {"priority": 3}}])
    assert await stored(runtime, jobs[0].id) == await stored(runtime, str(theirs[0].id))
