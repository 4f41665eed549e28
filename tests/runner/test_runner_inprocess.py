"""The runner inside the test's event loop: auto restart, heartbeats read by an API process."""

from __future__ import annotations

import asyncio

import pytest

from bullmq_codegen import create_queue_config
from bullmq_codegen.runner import RunnerSettings, WorkerRunner
from bullmq_codegen.runtime import Runtime
from bullmq_codegen.testing import RedisSource

from ..helpers import eventually
from .support import ROUTES, kill_worker, quick, workers_running


async def test_a_worker_that_dies_is_restarted_alone(runtime: Runtime) -> None:
    runner = WorkerRunner(
        runtime=runtime, routes=ROUTES, settings=RunnerSettings(health_check_interval=0.2)
    )
    running = asyncio.ensure_future(runner.run())
    await eventually(lambda: workers_running(runner, "a", "b"), timeout=10)
    first = runner.groups["a"].workers["a"]
    other = runner.groups["b"].workers["b"]
    await kill_worker(runner, "a")  # the worker of queue a dies
    await eventually(lambda: _restarted(runner), timeout=10)
    assert runner.groups["a"].workers["a"] is not first
    assert runner.groups["b"].workers["b"] is other  # the other queue's worker went on
    job = await runtime.queue("a").context().pipeline.execute(b"*1\r\n$4\r\nPING\r\n")
    assert job in ("PONG", True)
    runner.stop()
    assert await running == 0


async def _restarted(runner: WorkerRunner) -> bool:
    return runner.restarts["a"] == 1 and await workers_running(runner, "a")


async def test_a_dead_worker_without_auto_restart_is_fatal(runtime: Runtime) -> None:
    runner = WorkerRunner(
        runtime=runtime, routes=ROUTES, settings=RunnerSettings(auto_restart=False)
    )
    running = asyncio.ensure_future(runner.run())
    await eventually(lambda: workers_running(runner, "a", "b"), timeout=10)
    await kill_worker(runner, "b")
    assert await asyncio.wait_for(running, 20) == 1


async def test_an_api_process_reads_worker_health_from_redis(
    runtime: Runtime, redis: RedisSource, prefix: str
) -> None:
    config = runtime.config
    api = Runtime(config)  # another "process": no worker of its own
    assert (await api.worker_health())["status"] == "down"
    async with runtime.workers(ROUTES, queues=["a"], heartbeat_interval=0.2):
        await asyncio.sleep(0.3)
        report = await api.worker_health()
        assert report["status"] == "degraded"  # a has a live worker, b has none
        (worker,) = report["queues"]["a"]["workers"]
        assert (worker["alive"], worker["state"], worker["jobNames"]) == (
            True,
            "running",
            ["quickA"],
        )
        assert report["queues"]["b"] == {"alive": 0, "workers": []}
    report = await api.worker_health()
    assert report["queues"]["a"]["workers"] == []  # removed on close
    await api.close()


async def test_a_redirection_without_a_cluster_connection_is_fatal_and_names_the_fix(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    from redis.exceptions import MovedError

    runner = WorkerRunner(runtime=runtime, routes=ROUTES, settings=RunnerSettings())
    running = asyncio.ensure_future(runner.run())
    await eventually(lambda: workers_running(runner, "a", "b"), timeout=10)
    worker = runner.groups["a"].workers["a"]
    worker._report_error(MovedError("12394 127.0.0.1:24001"))  # pyright: ignore[reportPrivateUsage]
    assert await asyncio.wait_for(running, 20) == 1
    assert 'it is a Redis Cluster node; set "cluster": True' in caplog.text


async def test_heartbeats_of_killed_processes_are_forgotten(runtime: Runtime) -> None:
    import json
    import time

    from bullmq_codegen.runtime.health import heartbeat_key

    context = runtime.context("a")
    dead = {
        "worker_id": "dead",
        "heartbeat_at": int(time.time() * 1000) - 60_000,
        "interval_ms": 100,
    }
    await context.client.hset(heartbeat_key(context), "dead", json.dumps(dead))
    async with runtime.workers(ROUTES, queues=["a"], heartbeat_interval=0.1):
        await eventually(lambda: _forgotten(runtime), timeout=5)


async def _forgotten(runtime: Runtime) -> bool:
    from bullmq_codegen.runtime.health import heartbeat_key

    context = runtime.context("a")
    return not await context.client.hexists(heartbeat_key(context), "dead")


async def test_a_schedule_redis_refuses_stops_the_start_naming_it(
    redis: RedisSource, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    config = create_queue_config(
        queues={
            "a": {
                "workers": {"quickA": {"processor": quick, "schedules": {"tick": {"every": 1000}}}}
            }
        },
        connection=redis.url,
        prefix=prefix,
    )
    runtime = Runtime(config)
    try:
        client = runtime.queue("a").context().client
        await client.set(f"{prefix}:a:repeat", "not a sorted set")  # WRONGTYPE for the scheduler
        runner = WorkerRunner(runtime=runtime, routes=ROUTES[:1], settings=RunnerSettings())
        assert await asyncio.wait_for(runner.run(), 60) == 1
        assert "cannot start the workers of a" in caplog.text
        assert "tick" in caplog.text
    finally:
        await runtime.close()
