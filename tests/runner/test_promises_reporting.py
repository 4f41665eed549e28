"""What the runner reports about jobs that go wrong: listener callbacks (invalid payload, unknown
job name, lost lock), their log lines, and the ``failed``, ``invalid_payload`` and ``worker_up``
metrics of its ``/metrics``. Jobs are added by raw bullmq, as an older version or a Node service
would add them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence

import pytest
from bullmq import Queue
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel

from bullmq_codegen import Job, create_queue_config
from bullmq_codegen.runner import EXIT_OK, RunnerSettings, WorkerRunner
from bullmq_codegen.runtime import JobRoute, Runtime
from bullmq_codegen.runtime.worker.events import JobInfo, WorkerListener
from bullmq_codegen.testing import RedisSource, free_port

from ..helpers import eventually
from .support import http_get, kill_worker, workers_running


class Point(BaseModel):
    x: int


async def typed(job: Job[Point]) -> int:
    return job.payload.x


async def failing(job: Job[None]) -> None:
    raise RuntimeError(f"failing attempt {job.attempts_made + 1}")


RELEASE: list[asyncio.Event] = []
"""The event the ``hold`` processor waits for (one, made by the test on its loop)."""


async def hold(job: Job[None]) -> str:
    await asyncio.wait_for(RELEASE[0].wait(), 30)
    return "released"


ROUTES = (
    JobRoute(queue="checked", name="typed", schema=Point, processor=typed),
    JobRoute(queue="checked", name="failing", schema=None, processor=failing),
    JobRoute(queue="held", name="hold", schema=None, processor=hold),
)


@pytest.fixture
async def runtime(redis: RedisSource, prefix: str) -> AsyncIterator[Runtime]:
    config = create_queue_config(
        queues={
            "checked": {
                "workers": {
                    "typed": {"schema": Point, "processor": typed},
                    "failing": {"processor": failing},
                }
            },
            "held": {
                "workers": {
                    "hold": {
                        "processor": hold,
                        # renewed every 500 ms; no stalled check to take the job meanwhile
                        "options": {"lockDuration": 1000, "stalledInterval": 60_000},
                    }
                }
            },
        },
        connection=redis.url,
        prefix=prefix,
    )
    runtime = Runtime(config)
    yield runtime
    await runtime.close()


class Recorder(WorkerListener):
    """What the workers told their listeners about jobs that went wrong."""

    def __init__(self) -> None:
        self.invalid: list[tuple[str, str, str, str]] = []
        self.unknown: list[tuple[str, str, str]] = []
        self.lost: list[tuple[str, list[str]]] = []

    def on_invalid_payload(self, job: JobInfo, error: Exception) -> None:
        self.invalid.append((job.queue, job.name, job.id, str(error)))

    def on_unknown_job(self, job: JobInfo) -> None:
        self.unknown.append((job.queue, job.name, job.id))

    def on_lock_renewal_failed(self, queue: str, job_ids: Sequence[str]) -> None:
        self.lost.append((queue, list(job_ids)))


def metric_values(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus text page, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return name, frozenset(labels.items())


async def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    status, body = await asyncio.to_thread(http_get, port, "/metrics")
    assert status == 200
    assert isinstance(body, str)
    return metric_values(body)


async def test_jobs_that_go_wrong_reach_listeners_logs_and_metrics(
    runtime: Runtime, redis: RedisSource, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bullmq_codegen.runner")
    RELEASE[:] = [asyncio.Event()]
    recorder = Recorder()
    port = free_port()
    runner = WorkerRunner(
        runtime=runtime,
        routes=ROUTES,
        settings=RunnerSettings(health_port=port),
        extra_listeners=[recorder],
    )
    running = asyncio.ensure_future(runner.run())
    checked = Queue("checked", {"connection": redis.url, "prefix": prefix})
    held = Queue("held", {"connection": redis.url, "prefix": prefix})
    try:
        await eventually(lambda: workers_running(runner, "checked", "held"), timeout=10)
        up = await scrape(port)
        assert up[sample("bullmq_worker_up", queue="checked")] == 1
        assert up[sample("bullmq_worker_up", queue="held")] == 1

        invalid = await checked.add("typed", {"x": "not a number"}, {"attempts": 3})
        unknown = await checked.add("nobody", {}, {"attempts": 3})
        failed = await checked.add("failing", {}, {"attempts": 2})
        good = await checked.add("typed", {"x": 2}, {})
        for job in (invalid, unknown, failed):
            await _failed_for_good(runtime, job.id)
        assert await runtime.queue("checked").wait_until_finished(good.id, timeout=10) == 2

        kept = await held.add("hold", {}, {})
        context = runtime.context("held")
        await eventually(lambda: _state_is(runtime, "held", kept.id, "active"), timeout=10)
        await context.client.delete(context.job_key(kept.id) + ":lock")  # someone took it
        await eventually(lambda: _lost(recorder), timeout=10)
        RELEASE[0].set()

        values = await scrape(port)
        await kill_worker(runner, "held")  # a crash: not up until restarted (1 s later)
        down = await scrape(port)
        await eventually(lambda: workers_running(runner, "held"), timeout=20)
        again = await scrape(port)
    finally:
        RELEASE[0].set()
        runner.stop()
        code = await running
        await checked.close()
        await held.close()
    assert code == EXIT_OK

    # the listener callbacks, each with the job it is about
    ((queue, name, job_id, error),) = recorder.invalid
    assert (queue, name, job_id) == ("checked", "typed", invalid.id)
    assert "x\n  Input should be a valid integer" in error
    assert recorder.unknown == [("checked", "nobody", unknown.id)]
    assert recorder.lost[0] == ("held", [kept.id])

    # the runner's log lines for them
    assert f"invalid payload: queue=checked name=typed id={invalid.id}: " in caplog.text
    assert f"no processor for job: queue=checked name=nobody id={unknown.id}" in caplog.text
    assert (
        "lost the locks of running jobs (another worker may run them): "
        f"queue=held ids={kept.id}" in caplog.text
    )
    assert (
        f"job failed: queue=checked name=failing id={failed.id} attempt=1 (will be retried): "
        "RuntimeError: failing attempt 1" in caplog.text
    )
    assert (
        f"job failed: queue=checked name=failing id={failed.id} attempt=2 (failed for good): "
        "RuntimeError: failing attempt 2" in caplog.text
    )

    # the metrics
    failed_total = "bullmq_jobs_failed_total"
    assert values[sample(failed_total, queue="checked", job_name="failing", final="false")] == 1
    assert values[sample(failed_total, queue="checked", job_name="failing", final="true")] == 1
    invalid_total = "bullmq_jobs_invalid_payload_total"
    assert values[sample(invalid_total, queue="checked", job_name="typed")] == 1
    assert values[sample("bullmq_jobs_completed_total", queue="checked", job_name="typed")] == 1
    assert down[sample("bullmq_worker_up", queue="held")] == 0
    assert down[sample("bullmq_worker_up", queue="checked")] == 1  # the other one ran on
    assert again[sample("bullmq_worker_up", queue="held")] == 1
    final = metric_values(_registry_text(runner))
    assert final[sample("bullmq_worker_up", queue="checked")] == 0  # stopped
    assert final[sample("bullmq_worker_up", queue="held")] == 0


def _registry_text(runner: WorkerRunner) -> str:
    """The metrics as ``/metrics`` served them, once the health server is closed."""
    return generate_latest(runner.metrics.registry).decode()


async def _failed_for_good(runtime: Runtime, job_id: str) -> None:
    await eventually(lambda: _state_is(runtime, "checked", job_id, "failed"), timeout=10)


async def _state_is(runtime: Runtime, queue: str, job_id: str, state: str) -> bool:
    return await runtime.queue(queue).get_job_state(job_id) == state


async def _lost(recorder: Recorder) -> bool:
    return bool(recorder.lost)
