"""Node's ``Queue.getWorkers()``, ``getWorkersCount()`` and ``getQueueEvents()`` see our
workers and event readers (they look for Node's client names in ``CLIENT LIST``)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bullmq_codegen import create_queue_config
from bullmq_codegen.runtime import JobRoute, Producer, Runtime
from bullmq_codegen.testing import RedisSource
from bullmq_codegen.testing.node import node_bullmq

from ..cases_support import Ping, ping

SCRIPT = Path(__file__).parent / "node" / "control.js"


@pytest.fixture
def node_modules() -> Path:
    modules = node_bullmq()
    if modules is None:
        pytest.skip("Node.js and npm (and the npm registry) are needed for the interop check")
    return modules


def runtime_for(redis: RedisSource, prefix: str, name: str | None) -> Runtime:
    options: dict[str, Any] = {} if name is None else {"name": name}
    return Runtime(
        create_queue_config(
            queues={
                "pings": {
                    "workers": {"ping": {"schema": Ping, "processor": ping, "options": options}}
                }
            },  # type: ignore[typeddict-item]
            connection=redis.url,
            prefix=prefix,
        )
    )


async def node_clients(modules: Path, redis: RedisSource, prefix: str) -> dict[str, Any]:
    done = await asyncio.to_thread(
        subprocess.run,
        ["node", str(SCRIPT), "clients", redis.url, prefix, "pings"],
        env={**os.environ, "NODE_PATH": str(modules)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture
async def runtimes(redis: RedisSource, prefix: str) -> AsyncIterator[list[Runtime]]:
    made: list[Runtime] = []
    yield made
    for runtime in made:
        await runtime.close()


@pytest.mark.parametrize("name", [None, "billing"])
async def test_node_sees_our_workers_and_event_readers(
    node_modules: Path, redis: RedisSource, prefix: str, runtimes: list[Runtime], name: str | None
) -> None:
    runtime = runtime_for(redis, prefix, name)
    runtimes.append(runtime)
    route = JobRoute(queue="pings", name="ping", schema=Ping, processor=ping)
    assert await node_clients(node_modules, redis, prefix) == {
        "workers": 0,
        "names": [],
        "queueEvents": 0,
    }
    async with runtime.workers([route]):
        job = await Producer(runtime.queue("pings"), "ping", Ping).enqueue(Ping(host="h"), {})
        assert await job.result(timeout=10) == "h"  # waiting opened the event reader
        seen = await node_clients(node_modules, redis, prefix)
    encoded = "cGluZ3M="  # base64("pings"), as Node names a queue's clients
    assert seen == {
        "workers": 1,
        "names": [f"{prefix}:{encoded}:w:{name or 'bullmq-codegen'}"],
        "queueEvents": 1,
    }
