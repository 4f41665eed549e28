"""The runner's supervision promises: a crashed worker is restarted with backoff (1 s, then 2 s...),
and Redis unreachable past ``redisTimeout`` after the start is fatal (exit 1)."""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
import time
from pathlib import Path

import pytest

from bullmq_codegen.runner import EXIT_FATAL, EXIT_OK, RunnerSettings, WorkerRunner
from bullmq_codegen.runtime import Runtime
from bullmq_codegen.testing import RedisServer

from ..helpers import eventually
from .support import ROUTES, RunnerProcess, child_env, kill_worker, workers_running


def _logged_at(caplog: pytest.LogCaptureFixture, start: str) -> list[float]:
    """When the runner logged a line starting with ``start`` (each time), by the records' clock."""
    return [
        record.created
        for record in caplog.records
        if record.name == "bullmq_codegen.runner" and record.getMessage().startswith(start)
    ]


async def test_a_crashed_worker_is_restarted_after_a_growing_backoff(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    """README: restarted alone, with backoff (1, 2, 5, 10, 30, 60 s). Each restart comes no
    sooner than its delay after the crash: measured from the log lines' own times."""
    caplog.set_level(logging.INFO, logger="bullmq_codegen.runner")
    runner = WorkerRunner(runtime=runtime, routes=ROUTES, settings=RunnerSettings())
    running = asyncio.ensure_future(runner.run())
    await eventually(lambda: workers_running(runner, "a", "b"), timeout=10)
    for restarts in (1, 2):
        await kill_worker(runner, "a")
        await eventually(functools.partial(_restarted, runner, restarts), timeout=20)
    runner.stop()
    assert await running == EXIT_OK
    died = _logged_at(caplog, "worker a died: ")
    up = _logged_at(caplog, "worker a: running")
    assert len(died) == 2, caplog.text
    assert len(up) == 3, caplog.text  # the start, then two restarts
    gaps = [up[1] - died[0], up[2] - died[1]]
    assert gaps[0] >= 1.0, gaps  # the first restart waits 1 s
    assert gaps[1] >= 2.0, gaps  # the second 2 s: the backoff grows
    assert _logged_at(caplog, "restarting worker a in 1 s (restart 1)")
    assert _logged_at(caplog, "restarting worker a in 2 s (restart 2)")
    assert runner.restarts == {"a": 2, "b": 0}  # the other queue's worker went on


async def _restarted(runner: WorkerRunner, restarts: int) -> bool:
    return runner.restarts["a"] == restarts and await workers_running(runner, "a")


@pytest.mark.slow
async def test_redis_unreachable_past_the_timeout_after_the_start_is_fatal(
    ops_root: Path, own_redis: RedisServer, prefix: str
) -> None:
    """README: unreachable later, workers reconnect by themselves; past ``redisTimeout`` the
    process exits 1 so its supervisor restarts it."""
    runner = RunnerProcess(
        ops_root,
        child_env(
            BULLMQ_TEST_REDIS_URL=own_redis.url, BULLMQ_PREFIX=prefix, WORKER_REDIS_TIMEOUT="2000"
        ),
    )
    try:
        await runner.started()
        own_redis.stop()
        stopped_at = time.monotonic()
        code = await asyncio.to_thread(runner.wait, 60)
        waited = time.monotonic() - stopped_at
    finally:
        runner.stop()
    assert code == EXIT_FATAL, runner.log
    assert "Redis unreachable: " in runner.log
    assert "fatal: Redis unreachable for " in runner.log
    assert waited >= 2.0, waited  # not before the bound


@pytest.mark.slow
async def test_redis_back_within_the_timeout_is_not_fatal(
    ops_root: Path, own_redis: RedisServer, prefix: str
) -> None:
    """The other side of the bound: a Redis that is back before ``redisTimeout`` ends changes
    nothing; the process runs on and stops gracefully."""
    runner = RunnerProcess(
        ops_root,
        child_env(
            BULLMQ_TEST_REDIS_URL=own_redis.url, BULLMQ_PREFIX=prefix, WORKER_REDIS_TIMEOUT="30000"
        ),
    )
    try:
        await runner.started()
        own_redis.stop()
        await eventually(lambda: _logged(runner, "Redis unreachable: "), timeout=20)
        own_redis.start()
        await eventually(lambda: _logged(runner, "Redis reachable again"), timeout=30)
        assert runner.process.poll() is None
        runner.signal(signal.SIGTERM)
        assert await asyncio.to_thread(runner.wait, 60) == EXIT_OK, runner.log
    finally:
        runner.stop()
    assert "fatal" not in runner.log


async def _logged(runner: RunnerProcess, text: str) -> bool:
    return text in runner.log
