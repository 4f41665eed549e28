"""Custom backoff strategies: a worker's ``backoffStrategy`` decides when a failed job runs again."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from bullmq_codegen.runtime import JobFailedError
from bullmq_codegen.testing import RedisSource
from bullmq_codegen.testing.node import node_bullmq

from ..helpers import eventually, generated_case, import_fresh, purge_modules

SCRIPT = Path(__file__).parent / "node" / "flows.js"


@pytest.fixture
def flowcase_root(tmp_path: Path) -> Iterator[Path]:
    yield generated_case("flows", tmp_path, "flowcase/jobs.py")
    purge_modules("flowcase")


@pytest.fixture
async def flowcase(flowcase_root: Path, redis_env: RedisSource) -> AsyncIterator[ModuleType]:
    package = import_fresh(flowcase_root, "flowcase.generated")
    yield package
    await package.close_connections()


def now_ms() -> int:
    return int(time.time() * 1000)


async def delayed_by(package: ModuleType, job_id: str, attempts_made: int) -> tuple[int, int]:
    """Once the job is delayed after ``attempts_made`` failures: its ``delay`` and due time."""
    ctx = package.retries_queue.context()

    async def delayed() -> bool:
        fields = await ctx.client.hgetall(ctx.job_key(job_id))
        return await package.retries_queue.get_job_state(job_id) == "delayed" and fields.get(
            "atm"
        ) == str(attempts_made)

    await eventually(delayed, timeout=10)
    delay = int(await ctx.client.hget(ctx.job_key(job_id), "delay"))
    score = await ctx.client.zscore(ctx.keys["delayed"], job_id)
    return delay, int(score) >> 12  # BullMQ's score: due time * 0x1000 + a counter


async def test_growing_delays_are_the_strategys(flowcase: ModuleType) -> None:
    from flowcase import jobs
    from flowcase.schemas import Attempt

    ctx = flowcase.retries_queue.context()
    before = now_ms()
    job = await flowcase.enqueue_growing(
        Attempt(label="g"), attempts=3, backoff={"type": "growing", "delay": 5}
    )
    async with flowcase.create_workers(queues=["retries"]):
        for failures, expected in [(1, 10_000), (2, 20_000)]:
            delay, due = await delayed_by(flowcase, job.id, failures)
            assert delay == expected
            assert before + expected <= due <= now_ms() + 1 + expected  # +1: rounding
            before = now_ms()
            await ctx.backend.promote(job.id)  # the test does not wait the delay out
        with pytest.raises(JobFailedError) as failed:
            await job.result(timeout=10)
    assert failed.value.attempts_made == 3
    assert failed.value.reason == "g failed attempt 3"
    # asked after each failure but the last, with BullMQ's arguments and our typed job
    calls = jobs.STRATEGY_CALLS
    assert calls == [
        ("growing", 1, "growing", "g failed attempt 1", Attempt(label="g")),
        ("growing", 2, "growing", "g failed attempt 2", Attempt(label="g")),
    ]


async def test_builtin_types_do_not_ask_the_strategy(flowcase: ModuleType) -> None:
    from flowcase import jobs
    from flowcase.schemas import Attempt

    job = await flowcase.enqueue_growing(
        Attempt(label="f"), attempts=2, backoff={"type": "fixed", "delay": 20_000}
    )
    async with flowcase.create_workers(queues=["retries"]):
        delay, _ = await delayed_by(flowcase, job.id, 1)
    assert delay == 20_000
    assert jobs.STRATEGY_CALLS == []


async def test_minus_one_fails_the_job_for_good_at_once(flowcase: ModuleType) -> None:
    from flowcase import jobs
    from flowcase.schemas import Attempt

    job = await flowcase.enqueue_giving_up(
        Attempt(label="q"), attempts=5, backoff={"type": "whatever"}
    )
    async with flowcase.create_workers(queues=["retries"]):
        with pytest.raises(JobFailedError) as failed:
            await job.result(timeout=10)
    assert failed.value.attempts_made == 1
    assert failed.value.reason == "q failed attempt 1"
    calls = jobs.STRATEGY_CALLS
    assert calls == [("givingUp", 1, "whatever", "q failed attempt 1", Attempt(label="q"))]


async def test_an_async_strategy_is_awaited(flowcase: ModuleType) -> None:
    from flowcase import jobs
    from flowcase.schemas import Attempt

    job = await flowcase.enqueue_async_backoff(
        Attempt(label="a"), attempts=2, backoff={"type": "slow"}
    )
    async with flowcase.create_workers(queues=["retries"]):
        delay, _ = await delayed_by(flowcase, job.id, 1)
    assert delay == 30_000
    assert [call[:3] for call in jobs.STRATEGY_CALLS] == [("asyncBackoff", 1, "slow")]


async def test_a_strategy_that_raises_fails_the_job_saying_so(flowcase: ModuleType) -> None:
    from flowcase.schemas import Attempt

    job = await flowcase.enqueue_broken_backoff(
        Attempt(label="b"), attempts=3, backoff={"type": "buggy"}
    )
    async with flowcase.create_workers(queues=["retries"]):
        with pytest.raises(JobFailedError) as failed:
            await job.result(timeout=10)
    assert failed.value.attempts_made == 1
    assert failed.value.reason == (
        "b failed attempt 1 (not retried: the backoffStrategy of worker 'brokenBackoff' of "
        "queue 'retries' raised ValueError: no delay for you)"
    )
    snapshot = await job.snapshot()
    assert snapshot is not None
    assert "RuntimeError: b failed attempt 1" in snapshot.stacktrace[-1]


async def test_a_custom_type_without_strategy_from_node_fails_naming_it(
    flowcase: ModuleType, redis_env: RedisSource, prefix: str
) -> None:
    modules = node_bullmq()
    if modules is None:
        pytest.skip("Node.js and npm (and the npm registry) are needed for the interop test")
    completed = await asyncio.to_thread(
        subprocess.run,
        [
            "node",
            str(SCRIPT),
            "add",
            redis_env.url,
            prefix,
            "retries",
            "plain",
            json.dumps({"label": "n"}),
            json.dumps({"attempts": 3, "backoff": {"type": "custom", "delay": 100}}),
        ],
        env={**os.environ, "NODE_PATH": str(modules)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    job_id = json.loads(completed.stdout)
    async with flowcase.create_workers(queues=["retries"]):
        with pytest.raises(JobFailedError) as failed:
            await flowcase.get_plain_job(job_id).result(timeout=10)
    assert failed.value.attempts_made == 1
    assert failed.value.reason == (
        "n failed attempt 1 (not retried: backoff type 'custom' needs a backoffStrategy, "
        "and worker 'plain' of queue 'retries' declares none)"
    )
