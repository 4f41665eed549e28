"""Jobs Node BullMQ adds (waiting, prioritized, delayed) are what a drain waits for, or not."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from bullmq_codegen.runtime import Runtime
from bullmq_codegen.testing import RedisSource, run_until_drained
from bullmq_codegen.testing.node import node_bullmq

SCRIPT = Path(__file__).parent / "node" / "add_jobs.js"


@pytest.fixture(scope="session")
def node_modules() -> Path:
    modules = node_bullmq()
    if modules is None:
        pytest.skip("Node.js and npm (and the npm registry) are needed for the interop test")
    return modules


async def test_a_drain_runs_the_jobs_node_adds_and_leaves_those_due_later(
    shop_on_redis: ModuleType, redis: RedisSource, prefix: str, node_modules: Path
) -> None:
    shop = shop_on_redis
    completed = await asyncio.to_thread(
        subprocess.run,
        ["node", str(SCRIPT), redis.url, prefix],
        env={**os.environ, "NODE_PATH": str(node_modules)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    added = json.loads(completed.stdout)
    assert added["counts"] == {"wait": 1, "prioritized": 1, "delayed": 2}
    runtime: Runtime = shop.queues.runtime
    report = await run_until_drained(
        shop.create_workers(queues=["orders"]), runtime, delayed_within=2
    )
    ids = added["ids"]
    assert sorted(job.id for job in report.completed) == sorted(
        [ids["waiting"], ids["prioritized"], ids["dueSoon"]]
    )
    assert report.delayed_later == 1
    assert await shop.orders_queue.get_job_state(ids["dueLater"]) == "delayed"
