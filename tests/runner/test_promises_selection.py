"""``bullmq-codegen workers start --queue/--worker`` as a process: only the selected queues' jobs
run (a worker selects its queue), and a selection that cannot run is refused (exit 2).

The shared-queue case: ``orders`` (three workers), ``retries`` (``flakyTask``), ``reports`` and
``throttled``.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import pytest

from bullmq_codegen.runner import EXIT_BAD_INPUT, EXIT_OK
from bullmq_codegen.testing import RedisSource

from ..helpers import generated_case, import_fresh, purge_modules
from .support import RunnerProcess, child_env

pytestmark = pytest.mark.slow

CONFIG = "shop/jobs.py"


@pytest.fixture
def shop_root(tmp_path: Path) -> Path:
    return generated_case("shared_queue", tmp_path, CONFIG)


@pytest.fixture
async def shop(shop_root: Path, redis_env: RedisSource) -> AsyncIterator[ModuleType]:
    package = import_fresh(shop_root, "shop.generated")
    yield package
    await package.close_connections()
    purge_modules("shop")


async def test_only_the_selected_queues_jobs_run(shop_root: Path, shop: ModuleType) -> None:
    audit = await shop.enqueue_audit_log()  # orders: not selected
    (ping,) = await shop.enqueue_ping_bulk(1)  # throttled: not selected
    report = await shop.enqueue_with_progress()  # reports: --queue reports
    flaky = await shop.enqueue_flaky_task()  # retries: --worker flakyTask
    runner = RunnerProcess(
        shop_root, child_env(), "--queue", "reports", "--worker", "flakyTask", config=CONFIG
    )
    try:
        await runner.started(queues=("reports", "retries"))
        assert await report.wait_until_finished(timeout=30) == 1
        assert await flaky.wait_until_finished(timeout=30) == "succeeded after 2 failures"
        health = await shop.get_worker_health()  # what every process can read from Redis
        # the other queues' jobs were there all along, and are still waiting
        assert await audit.state() == "waiting"
        assert await ping.state() == "waiting"
        runner.signal(signal.SIGTERM)
        assert await asyncio.to_thread(runner.wait, 60) == EXIT_OK, runner.log
    finally:
        runner.stop()
    alive = {queue: state["alive"] for queue, state in health["queues"].items()}
    assert alive == {"orders": 0, "retries": 1, "reports": 1, "throttled": 0}
    assert "worker orders:" not in runner.log
    assert "worker throttled:" not in runner.log


@pytest.mark.parametrize(
    ("selection", "problem"),
    [
        (
            ("--worker", "chargeCard"),
            "shares queue 'orders' with 'auditLog', 'sendReceipt'",
        ),
        (("--queue", "nope"), "unknown queue or worker names: 'nope'"),
    ],
)
async def test_a_selection_that_cannot_run_is_refused(
    shop_root: Path, shop: ModuleType, selection: tuple[str, str], problem: str
) -> None:
    audit = await shop.enqueue_audit_log()
    runner = RunnerProcess(shop_root, child_env(), *selection, config=CONFIG)
    try:
        assert await asyncio.to_thread(runner.wait, 60) == EXIT_BAD_INPUT
    finally:
        runner.stop()
    assert problem in runner.log
    assert "running" not in runner.log  # refused before any worker started
    assert await audit.state() == "waiting"
