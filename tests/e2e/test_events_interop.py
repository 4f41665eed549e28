"""The event stream both ways with Node BullMQ: Node's ``QueueEvents`` hears what our workers
complete, and our waiters, job iterators and listeners hear what Node's workers do."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from bullmq_codegen import Job, create_queue_config
from bullmq_codegen.runtime import JobFailedError, JobRoute, Producer, Runtime
from bullmq_codegen.runtime.events import JobCompleted, JobEvent, JobProgressed
from bullmq_codegen.testing import RedisSource
from bullmq_codegen.testing.node import node_bullmq

from ..helpers import eventually

SCRIPT = Path(__file__).parent / "node" / "events.js"


class Numbered(BaseModel):
    n: int


class Doubled(BaseModel):
    n: int
    doubled: int


async def double(job: Job[Numbered]) -> Doubled:
    return Doubled(n=job.payload.n, doubled=job.payload.n * 2)


async def bad(job: Job[None]) -> None:
    raise ValueError("python says no")


ROUTES = (
    JobRoute(queue="interop", name="ok", schema=Numbered, processor=double),
    JobRoute(queue="interop", name="bad", schema=None, processor=bad),
)


@pytest.fixture(scope="module")
def node_modules() -> Path:
    modules = node_bullmq()
    if modules is None:
        pytest.skip("Node.js and npm (and the npm registry) are needed for the interop test")
    return modules


@pytest.fixture
async def runtime(redis: RedisSource, prefix: str) -> AsyncIterator[Runtime]:
    config = create_queue_config(
        queues={
            "interop": {
                "workers": {
                    "ok": {"schema": Numbered, "processor": double},
                    "bad": {"processor": bad},
                }
            }
        },
        connection=redis.url,
        prefix=prefix,
    )
    runtime = Runtime(config)
    yield runtime
    await runtime.close()


def node(node_modules: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["node", str(SCRIPT), *args],
        env={**os.environ, "NODE_PATH": str(node_modules)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_node_queue_events_see_what_python_workers_complete(
    runtime: Runtime, redis: RedisSource, prefix: str, node_modules: Path
) -> None:
    producer = Producer(runtime.queue("interop"), "ok", Numbered)
    jobs = [await producer.enqueue(Numbered(n=n), {}) for n in range(3)]
    listener = node(node_modules, "listen", redis.url, prefix, "interop", *(j.id for j in jobs))
    assert listener.stdout is not None
    ready = await asyncio.to_thread(listener.stdout.readline)
    assert ready.strip() == "ready", listener.stderr.read() if listener.stderr else ""
    async with runtime.workers(ROUTES):
        out, err = await asyncio.to_thread(listener.communicate, timeout=60)
    assert listener.returncode == 0, err
    seen = json.loads(out)
    expected = {job.id: {"n": n, "doubled": 2 * n} for n, job in enumerate(jobs)}
    assert seen["results"] == expected  # Node's job.waitUntilFinished
    assert {event["jobId"]: event["returnvalue"] for event in seen["completed"]} == expected


async def test_python_waiters_and_iterators_follow_node_workers(
    runtime: Runtime, redis: RedisSource, prefix: str, node_modules: Path
) -> None:
    queue = runtime.queue("interop")
    done = await Producer(queue, "ok", Numbered).enqueue(Numbered(n=7), {})
    failing = await Producer(queue, "bad", None).enqueue(None, {"attempts": 2})
    result = asyncio.create_task(queue.wait_for_result(done.id, timeout=30))
    failure = asyncio.create_task(queue.wait_for_result(failing.id, timeout=30))
    seen: list[JobEvent] = []

    async def follow() -> None:
        async for event in queue.job_events(done.id):
            seen.append(event)

    following = asyncio.create_task(follow())
    await eventually(lambda: _watched(runtime, 2))
    worker = node(node_modules, "work", redis.url, prefix, "interop", "2")
    assert json.loads(await result) == {"processedBy": "node", "n": 7}
    with pytest.raises(JobFailedError) as raised:
        await failure
    assert (raised.value.reason, raised.value.attempts_made) == ("node says no", 2)
    await asyncio.wait_for(following, 10)
    _out, err = await asyncio.to_thread(worker.communicate, timeout=30)
    assert worker.returncode == 0, err
    progress = [event for event in seen if isinstance(event, JobProgressed)]
    assert [(event.name, event.data) for event in progress] == [("ok", 50)]
    assert seen[-1] == JobCompleted(done.id, "ok", '{"processedBy":"node","n":7}')


async def _watched(runtime: Runtime, count: int) -> bool:
    return runtime.events("interop").watched == count
