"""README: "A worker missing three beats counts as dead; its entry is removed after ten."

Read as an API process reads them (``get_worker_health()``, from Redis), not from the worker.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import pytest

from bullmq_codegen import Job, create_queue_config
from bullmq_codegen.runner import EXIT_OK
from bullmq_codegen.runtime import JobRoute, Runtime
from bullmq_codegen.runtime.health import WorkerHealth, heartbeat_key
from bullmq_codegen.testing import RedisSource

from ..helpers import eventually
from .support import RunnerProcess, child_env


async def quick(job: Job[None]) -> str:
    return job.id


ROUTES = (JobRoute(queue="a", name="quickA", schema=None, processor=quick),)


@pytest.fixture
async def runtime(redis: RedisSource, prefix: str) -> AsyncIterator[Runtime]:
    config = create_queue_config(
        queues={"a": {"workers": {"quickA": {"processor": quick}}}},
        connection=redis.url,
        prefix=prefix,
    )
    runtime = Runtime(config)
    yield runtime
    await runtime.close()


async def test_beats_missed_three_times_are_dead_and_ten_times_forgotten(runtime: Runtime) -> None:
    """Beside a live worker, copies of its heartbeat as if it had missed 2, 5 and 11 beats
    (beats of 10 s, so a slow machine cannot age them past a bound while the test reads)."""
    context = runtime.context("a")
    key = heartbeat_key(context)
    async with runtime.workers(ROUTES, queues=["a"], heartbeat_interval=0.1):
        await eventually(lambda: _has_beats(runtime, 1), timeout=10)
        (live,) = (await context.client.hgetall(key)).values()
        now = int(time.time() * 1000)
        for missed in (2, 5, 11):
            beat = {
                **json.loads(live),
                "worker_id": f"missed-{missed}",
                "interval_ms": 10_000,
                "heartbeat_at": now - missed * 10_000,
            }
            await context.client.hset(key, f"missed-{missed}", json.dumps(beat))
        # the live worker's next beats forget the one past ten intervals...
        await eventually(lambda: _forgotten(runtime, "missed-11"), timeout=10)
        await asyncio.sleep(0.3)  # ...and a few more beats leave the others alone
        report = await runtime.worker_health()
    workers = {worker["id"]: worker for worker in report["queues"]["a"]["workers"]}
    assert set(workers) == {json.loads(live)["worker_id"], "missed-2", "missed-5"}
    assert workers["missed-2"]["alive"] is True  # two beats missed: still alive
    assert workers["missed-5"]["alive"] is False  # more than three: dead, though still listed
    assert workers["missed-5"]["secondsSinceHeartbeat"] >= 50
    assert report["queues"]["a"]["alive"] == 2


async def _has_beats(runtime: Runtime, count: int) -> bool:
    context = runtime.context("a")
    return int(await context.client.hlen(heartbeat_key(context))) >= count


async def _forgotten(runtime: Runtime, worker_id: str) -> bool:
    context = runtime.context("a")
    return not await context.client.hexists(heartbeat_key(context), worker_id)


@pytest.mark.slow
async def test_a_frozen_worker_process_stops_counting_as_alive(
    ops_root: Path, ops: ModuleType
) -> None:
    """A runner process frozen (SIGSTOP) stops beating: after three missed beats of 1 s (and
    before ten, when its hash would expire) the API side lists it, not alive; thawed, it beats
    again and counts as alive."""
    runner = RunnerProcess(ops_root, child_env(WORKER_HEALTH_CHECK_INTERVAL="1000"))
    try:
        await runner.started()
        await eventually(lambda: _alive_workers(ops, alive=True), timeout=10)
        runner.signal(signal.SIGSTOP)
        frozen_at = time.monotonic()
        await eventually(lambda: _alive_workers(ops, alive=False), timeout=30, interval=0.1)
        dead_after = time.monotonic() - frozen_at
        (worker,) = await _workers(ops)
        runner.signal(signal.SIGCONT)
        await eventually(lambda: _alive_workers(ops, alive=True), timeout=10)
        runner.signal(signal.SIGTERM)
        assert await asyncio.to_thread(runner.wait, 60) == EXIT_OK, runner.log
    finally:
        runner.signal(signal.SIGCONT)
        runner.stop()
    assert worker["state"] == "running"  # what it last said: only its silence makes it dead
    assert worker["secondsSinceHeartbeat"] > 3.0
    # its last beat came at most one interval before the freeze: dead no sooner than 2 s later
    assert dead_after >= 2.0, dead_after


async def _workers(ops: ModuleType) -> list[WorkerHealth]:
    report = await ops.get_worker_health()
    return list(report["queues"]["work"]["workers"])


async def _alive_workers(ops: ModuleType, *, alive: bool) -> bool:
    """One worker listed for ``work``, and it is (or is not) alive."""
    workers = await _workers(ops)
    return len(workers) == 1 and workers[0]["alive"] is alive
