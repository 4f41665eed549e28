"""A processor that blocks the event loop (``time.sleep`` in an ``async def``) is noticed while
it blocks, named in the log with the jobs it held up, and reported by readiness and metrics; a
block long enough to cost the other running jobs their locks says so (issue 12, long run)."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import pytest

from bullmq_codegen import Job, WorkerOptions, create_queue_config
from bullmq_codegen.runner import RunnerSettings, WorkerRunner
from bullmq_codegen.runtime import JobRoute, Producer, Runtime
from bullmq_codegen.testing import RedisSource, free_port

from ..helpers import eventually
from .support import RunnerProcess, child_env, http_get, workers_running

BLOCK_SECONDS = 2.5
RELEASE: list[asyncio.Event] = []
"""What the ``steady`` processor waits for (one, made by the test on its loop)."""


async def blocker(job: Job[None]) -> str:
    time.sleep(BLOCK_SECONDS)  # the mistake this test is about
    return "blocked"


async def steady(job: Job[None]) -> str:
    await asyncio.wait_for(RELEASE[0].wait(), 60)
    return "steady"


ROUTES = (
    JobRoute(queue="q", name="blocker", schema=None, processor=blocker),
    JobRoute(queue="q", name="steady", schema=None, processor=steady),
)


def config(redis: RedisSource, prefix: str, options: WorkerOptions) -> Runtime:
    return Runtime(
        create_queue_config(
            queues={
                "q": {
                    "workers": {
                        "blocker": {"processor": blocker, "options": options},
                        "steady": {"processor": steady, "options": options},
                    }
                }
            },
            connection=redis.url,
            prefix=prefix,
        )
    )


@pytest.fixture
async def runner(
    request: pytest.FixtureRequest, redis: RedisSource, prefix: str
) -> AsyncIterator[WorkerRunner]:
    """A runner with a health server; its lock options come from the test's parameter."""
    RELEASE[:] = [asyncio.Event()]
    runtime = config(redis, prefix, request.param)
    runner = WorkerRunner(
        runtime=runtime, routes=ROUTES, settings=RunnerSettings(health_port=free_port())
    )
    running = asyncio.ensure_future(runner.run())
    await eventually(lambda: workers_running(runner, "q"), timeout=15)
    yield runner
    RELEASE[0].set()
    runner.stop()
    await running
    await runtime.close()


async def block_while_steady_runs(runner: WorkerRunner) -> tuple[str, str]:
    """Run a ``steady`` job, then a ``blocker`` beside it; their ids once the block is over."""
    queue = runner.runtime.queue("q")
    held = await Producer(queue, "steady", None).enqueue(None, {})

    async def running(job_id: str) -> bool:
        return any(job.id == job_id for job in runner.groups["q"].workers["q"].running_jobs)

    await eventually(lambda: running(held.id), timeout=10)
    blocking = await Producer(queue, "blocker", None).enqueue(None, {})

    async def over() -> bool:
        return runner.loop_watch is not None and runner.loop_watch.blocks == 1

    await eventually(over, timeout=30)
    await eventually(lambda: _not(running(blocking.id)), timeout=10)
    return held.id, blocking.id


async def _not(check: Awaitable[bool]) -> bool:
    return not await check


# blocked after 1 s (the least of 1 s and lockDuration / 4), locks at risk after 4 s
@pytest.mark.parametrize("runner", [{"lockDuration": 8000}], indirect=True)
async def test_a_blocked_loop_is_logged_naming_the_jobs_and_reported(
    runner: WorkerRunner, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bullmq_codegen.runner")
    held, blocking = await block_while_steady_runs(runner)
    assert await runner.runtime.queue("q").wait_until_finished(blocking, timeout=10) == "blocked"

    # told while it lasted, from the watching thread: the jobs, the processor, the line
    (during,) = [r for r in caplog.records if "so far" in r.getMessage()]
    assert during.levelno == logging.WARNING
    line = during.getMessage()
    assert f"q/blocker/{blocking} ({__name__}.blocker)" in line, line
    assert f"q/steady/{held} ({__name__}.steady)" in line, line
    assert f"blocked at {__file__}:" in line, line
    assert line.endswith(" in blocker"), line
    # and when it was over, with how long it lasted
    (after,) = [r for r in caplog.records if "event loop was blocked for" in r.getMessage()]
    assert f"q/blocker/{blocking}" in after.getMessage()
    assert not [r for r in caplog.records if "may expire" in r.getMessage()]  # 2.5 s < 4 s

    assert runner.health_server is not None
    port = runner.health_server.port
    status, body = await asyncio.to_thread(http_get, port, "/health/ready")
    assert status == 503, body
    assert isinstance(body, dict)
    loop = body["eventLoop"]
    assert isinstance(loop, dict)
    assert (loop["state"], loop["blocks"]) == ("blocked recently", 1)
    last = cast("dict[str, Any]", loop["lastBlock"])
    assert {
        "queue": "q",
        "name": "blocker",
        "id": blocking,
        "processor": f"{__name__}.blocker",
    } in (last["jobs"])
    assert last["seconds"] >= 1.0
    status, workers = await asyncio.to_thread(http_get, port, "/health/workers")
    assert status == 200
    assert isinstance(workers, dict)
    shown = workers["eventLoop"]  # shown there whether or not it is a reason
    assert isinstance(shown, dict)
    assert (shown["blocks"], shown["lastBlock"]["jobs"]) == (1, last["jobs"])

    status, text = await asyncio.to_thread(http_get, port, "/metrics")
    assert status == 200
    assert isinstance(text, str)
    metrics = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in text.splitlines()
        if line.startswith("bullmq_event_loop")
    }
    assert metrics["bullmq_event_loop_blocked_total"] == 1
    assert metrics["bullmq_event_loop_blocked_seconds_total"] >= 1.0
    assert metrics["bullmq_event_loop_lag_seconds"] >= 1.0


# blocked after 0.5 s, locks at risk after 1 s (2000 - 1000 ms): the steady job's lock expires
@pytest.mark.parametrize("runner", [{"lockDuration": 2000, "lockRenewTime": 1000}], indirect=True)
async def test_a_block_that_costs_locks_says_so(
    runner: WorkerRunner, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bullmq_codegen.runner")
    held, blocking = await block_while_steady_runs(runner)
    (risk,) = [r for r in caplog.records if "may expire" in r.getMessage()]
    assert risk.levelno == logging.ERROR
    assert f"q/steady/{held}" in risk.getMessage()

    # and once the loop turns again, the renewal finds the lock gone: told, not silent
    def lost() -> list[str]:
        return [r.getMessage() for r in caplog.records if "lost the locks" in r.getMessage()]

    async def reported() -> bool:
        return any(f"ids={held}" in line for line in lost())

    await eventually(reported, timeout=10)
    assert not any(f"ids={blocking}" in line for line in lost())  # it had finished
    await asyncio.sleep(1.5)  # three renewals more
    assert sum(f"ids={held}" in line for line in lost()) == 1  # told once, not at each renewal
    # the blocker outlived its own lock: its completion is refused, not counted
    assert (
        "job completed but Redis did not record it (a stalled check gives it back if still "
        f"active): queue=q name=blocker id={blocking}" in caplog.text
    )
    assert runner.health_server is not None
    status, text = await asyncio.to_thread(http_get, runner.health_server.port, "/metrics")
    assert status == 200
    assert isinstance(text, str)
    assert 'bullmq_job_locks_lost_total{queue="q"} 1.0' in text
    not_recorded = (
        'bullmq_jobs_not_recorded_total{job_name="blocker",outcome="completed",queue="q"}'
    )
    assert f"{not_recorded} 1.0" in text
    assert 'bullmq_jobs_completed_total{job_name="blocker",queue="q"}' not in text


@pytest.mark.slow
async def test_a_paused_process_is_not_a_blocked_loop(ops_root: Path, ops: ModuleType) -> None:
    port = free_port()
    process = RunnerProcess(ops_root, child_env(), "--health-port", str(port))
    try:
        await process.started()

        async def watched() -> bool:
            status, workers = await asyncio.to_thread(http_get, port, "/health/workers")
            return status == 200 and "'watched': True" in str(workers)

        await eventually(watched, timeout=10)
        process.signal(signal.SIGSTOP)  # as a debugger, a VM pause or a starved CPU would
        await asyncio.sleep(3)
        process.signal(signal.SIGCONT)

        async def lag_seen() -> bool:
            assert "event loop blocked" not in process.log, process.log
            return "event loop lagged" in process.log

        await eventually(lag_seen, timeout=10)
        status, ready = await asyncio.to_thread(http_get, port, "/health/ready")
        assert status == 200, ready  # its loop waited for I/O all along: nothing blocked it
        process.signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, 60) == 0, process.log
    finally:
        process.stop()
    assert "event loop blocked" not in process.log
