"""README: "failed attempts store the stack trace, as BullMQ does": the job hash's ``stacktrace``
field holds one trace per failed attempt (the last ``stackTraceLimit`` of them), and Node BullMQ
reads them as its own ``job.stacktrace``."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import AsyncIterator

import pytest
from bullmq import Queue

from bullmq_codegen import Job, create_queue_config
from bullmq_codegen.runtime import JobRoute, Runtime
from bullmq_codegen.testing import RedisSource
from bullmq_codegen.testing.node import node_bullmq

from ..helpers import eventually


def _explode(attempt: int) -> None:
    raise RuntimeError(f"exploded on attempt {attempt}")


async def explode(job: Job[None]) -> None:
    _explode(job.attempts_made + 1)


ROUTES = (JobRoute(queue="traces", name="explode", schema=None, processor=explode),)


@pytest.fixture
async def runtime(redis: RedisSource, prefix: str) -> AsyncIterator[Runtime]:
    config = create_queue_config(
        queues={"traces": {"workers": {"explode": {"processor": explode}}}},
        connection=redis.url,
        prefix=prefix,
    )
    runtime = Runtime(config)
    yield runtime
    await runtime.close()


async def failed_jobs(runtime: Runtime, redis: RedisSource, prefix: str) -> tuple[str, str]:
    """Two jobs failed for good after 3 attempts, the second with ``stackTraceLimit`` 1."""
    raw = Queue("traces", {"connection": redis.url, "prefix": prefix})
    try:
        every = await raw.add("explode", {}, {"attempts": 3})
        limited = await raw.add("explode", {}, {"attempts": 3, "stackTraceLimit": 1})
    finally:
        await raw.close()
    async with runtime.workers(ROUTES):
        for job_id in (every.id, limited.id):
            await eventually(lambda job_id=job_id: _failed(runtime, job_id), timeout=10)
    return every.id, limited.id


async def _failed(runtime: Runtime, job_id: str) -> bool:
    return await runtime.queue("traces").get_job_state(job_id) == "failed"


async def stored_traces(runtime: Runtime, job_id: str) -> list[str]:
    context = runtime.context("traces")
    raw = await context.client.hget(context.job_key(job_id), "stacktrace")
    traces = json.loads(raw)
    assert isinstance(traces, list)
    return [str(trace) for trace in traces]


async def test_each_failed_attempt_stores_its_stack_trace(
    runtime: Runtime, redis: RedisSource, prefix: str
) -> None:
    every, limited = await failed_jobs(runtime, redis, prefix)
    traces = await stored_traces(runtime, every)
    assert len(traces) == 3  # one per failed attempt, oldest first
    for attempt, trace in enumerate(traces, start=1):
        assert trace.startswith("Traceback (most recent call last):"), trace
        assert "in explode" in trace  # the processor's frame...
        assert "in _explode" in trace  # ...down to where it raised
        assert trace.rstrip().endswith(f"RuntimeError: exploded on attempt {attempt}"), trace
    (last,) = await stored_traces(runtime, limited)  # stackTraceLimit 1: the last one only
    assert last.rstrip().endswith("RuntimeError: exploded on attempt 3"), last
    snapshot = await runtime.queue("traces").get_job(every)
    assert snapshot is not None
    assert snapshot.stacktrace == traces  # what the job snapshot reads


async def test_node_bullmq_reads_the_stack_traces(
    runtime: Runtime, redis: RedisSource, prefix: str
) -> None:
    modules = node_bullmq()
    if modules is None:
        pytest.skip("Node.js and npm (and the npm registry) are needed for the interop check")
    every, limited = await failed_jobs(runtime, redis, prefix)
    read = (
        'const { Queue } = require("bullmq");'
        'const IORedis = require("ioredis");'
        "const [url, prefix, ...ids] = process.argv.slice(1);"
        "(async () => {"
        "  const connection = new IORedis(url, { maxRetriesPerRequest: null });"
        '  const queue = new Queue("traces", { connection, prefix });'
        "  const jobs = await Promise.all(ids.map((id) => queue.getJob(id)));"
        "  console.log(JSON.stringify(jobs.map((job) =>"
        "    ({ stacktrace: job.stacktrace, failedReason: job.failedReason }))));"
        "  await queue.close();"
        "  await connection.quit();"
        "})().catch((error) => { console.error(error); process.exit(1); });"
    )
    completed = await asyncio.to_thread(
        subprocess.run,
        ["node", "-e", read, redis.url, prefix, every, limited],
        env={**os.environ, "NODE_PATH": str(modules)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    seen_every, seen_limited = json.loads(completed.stdout)
    assert seen_every == {
        "stacktrace": await stored_traces(runtime, every),
        "failedReason": "exploded on attempt 3",
    }
    assert seen_limited["stacktrace"] == await stored_traces(runtime, limited)
    assert len(seen_limited["stacktrace"]) == 1
