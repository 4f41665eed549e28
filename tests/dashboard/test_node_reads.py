"""The overview and Node BullMQ read the same state: Node's getJobCounts and getMetrics agree with
what the dashboard shows after our workers ran, and jobs a Node worker ran show as Node left them."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bullmq_codegen.dashboard.overview import read_overview
from bullmq_codegen.testing import RedisSource
from bullmq_codegen.testing.node import node_bullmq

from ..helpers import eventually

CONTROL = Path(__file__).parents[1] / "e2e" / "node" / "control.js"


@pytest.fixture(scope="module")
def node_modules() -> Path:
    modules = node_bullmq()
    if modules is None:
        pytest.skip("Node.js and npm (and the npm registry) are needed for the interop checks")
    return modules


async def node(modules: Path, *args: str) -> Any:
    done = await asyncio.to_thread(
        subprocess.run,
        ["node", str(CONTROL), *args],
        env={**os.environ, "NODE_PATH": str(modules)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def test_node_reads_the_counts_and_metrics_the_overview_shows(
    case: ModuleType, fail_flag: Path, node_modules: Path, redis_env: RedisSource, prefix: str
) -> None:
    for index in range(4):
        await case.enqueue_send_mail({"to": f"u{index}@example.com", "subject": "hi"})
    async with case.create_workers(queues=["mail"]):

        async def sent() -> bool:
            return (await case.mail_queue.counts()).completed == 4

        await eventually(sent, timeout=30)
        fail_flag.touch()
        await case.enqueue_send_mail({"to": "bad@example.com", "subject": "hi"})

        async def failed() -> bool:
            return (await case.mail_queue.counts()).failed == 1

        await eventually(failed, timeout=30)
    for _ in range(2):
        await case.enqueue_build_report()
    ran = await node(node_modules, "run", redis_env.url, prefix, "reports", "2", "ok")
    assert len(ran) == 2

    mail, reports = (await read_overview(case.queues.runtime, ["mail", "reports"])).queues
    metrics = await node(node_modules, "metrics", redis_env.url, prefix, "mail")
    assert int(metrics["completed"]["count"]) == mail.completed_last_hour == 4
    assert int(metrics["failed"]["count"]) == mail.failed_last_hour == 1
    for queue in (mail, reports):
        seen = await node(node_modules, "counts", redis_env.url, prefix, queue.name)
        ours = queue.counts.by_state()
        assert {state: ours[state] for state in seen["counts"]} == seen["counts"]
    assert reports.counts.completed == 2  # run by Node's worker
