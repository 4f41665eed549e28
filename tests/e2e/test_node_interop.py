"""Node BullMQ on the same queues: each side processes the jobs the other adds."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from bullmq_codegen.runtime import JobFailedError
from bullmq_codegen.testing import RedisSource
from bullmq_codegen.testing.node import node_bullmq

SCRIPT = Path(__file__).parent / "node" / "interop.js"


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """Node BullMQ installed once into a cache directory (from the npm registry)."""
    modules = node_bullmq()
    if modules is None:
        pytest.skip("Node.js and npm (and the npm registry) are needed for the interop test")
    return modules


def node(node_modules: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["node", str(SCRIPT), *args],
        env={**os.environ, "NODE_PATH": str(node_modules)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_python_workers_process_jobs_node_adds(
    example: ModuleType, redis_env: RedisSource, prefix: str, node_modules: Path
) -> None:
    adder = node(node_modules, "add", redis_env.url, prefix)
    out, err = await asyncio.to_thread(adder.communicate, timeout=60)
    assert adder.returncode == 0, err
    ids = json.loads(out)
    async with example.create_workers(queues=["emailSend"]):
        sent = await example.get_after_sign_up_email_job(ids["valid"]).result(timeout=10)
        assert sent.to == "node@example.com"
        assert sent.message_id == f"<{ids['valid']}@example.com>"
        with pytest.raises(JobFailedError, match="invalid payload for job 'afterSignUpEmail'"):
            await example.email_send_queue.wait_until_finished(ids["invalid"], timeout=10)


async def test_node_workers_process_jobs_python_adds(
    example: ModuleType, redis_env: RedisSource, prefix: str, node_modules: Path
) -> None:
    from app.queues.queue_definitions import EmailSend

    worker = node(node_modules, "work", redis_env.url, prefix, "3")
    jobs = [
        await example.enqueue_after_sign_up_email(EmailSend(to=f"u{i}@example.com", template="w"))
        for i in range(3)
    ]
    results = [await job.wait_until_finished(timeout=30) for job in jobs]
    await asyncio.to_thread(worker.wait, 30)
    assert worker.returncode == 0, worker.stderr.read() if worker.stderr else ""
    assert results == [
        {"processedBy": "node", "name": "afterSignUpEmail", "to": f"u{i}@example.com"}
        for i in range(3)
    ]
