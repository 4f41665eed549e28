"""Three workers on one queue: every job reaches the processor of its name, and only that one."""

from __future__ import annotations

import itertools
import random
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest

from bullmq_codegen.runtime import JobFailedError
from bullmq_codegen.runtime.worker.events import JobInfo, WorkerListener
from bullmq_codegen.testing import RedisSource

from ..helpers import eventually, generated_case, import_fresh, purge_modules


@pytest.fixture
def shop_root(tmp_path: Path) -> Iterator[Path]:
    yield generated_case("shared_queue", tmp_path, "shop/jobs.py")
    purge_modules("shop")


@pytest.fixture
async def shop(shop_root: Path, redis_env: RedisSource) -> AsyncIterator[ModuleType]:
    package = import_fresh(shop_root, "shop.generated")
    yield package
    await package.close_connections()


async def test_no_job_runs_with_the_wrong_processor(shop: ModuleType) -> None:
    from shop import jobs
    from shop.schemas import Charge, Currency, Money, Receipt

    expected: dict[str, str] = {}
    enqueue = [
        *[("chargeCard", i) for i in range(60)],
        *[("sendReceipt", i) for i in range(60)],
        *[("auditLog", i) for i in range(60)],
    ]
    random.Random(7).shuffle(enqueue)
    for name, i in enqueue:
        if name == "chargeCard":
            charge = Charge(
                order_id=i,
                total=Money(amount=Decimal("9.99"), currency=Currency.EUR),
                requested_at=datetime(2026, 11, 29, tzinfo=UTC),
            )
            job = await shop.enqueue_charge_card(charge)
        elif name == "sendReceipt":
            job = await shop.enqueue_send_receipt(Receipt(order_id=i, email="a@b.co", lines=["x"]))
        else:
            job = await shop.enqueue_audit_log()
        expected[job.id] = name
    async with shop.create_workers(queues=["orders"]):
        await eventually(lambda: _all_completed(shop, len(expected)), timeout=30)
    by_processor = {
        "charge_card": "chargeCard",
        "send_receipt": "sendReceipt",
        "audit_log": "auditLog",
    }
    runs = [run for run in jobs.RUNS]
    assert len(runs) == 180
    wrong = [run for run in runs if by_processor[run[0]] != run[1] or expected[run[2]] != run[1]]
    assert wrong == []
    assert sorted(run[2] for run in runs) == sorted(expected)  # each job ran exactly once
    # each processor's concurrency bounds it alone (2, 3 and 1), and was reached
    assert dict(jobs.PEAK) == {"charge_card": 2, "send_receipt": 3, "audit_log": 1}


async def _all_completed(shop: ModuleType, count: int) -> bool:
    return (await shop.orders_queue.counts()).completed >= count


async def test_results_are_stored_as_json(shop: ModuleType) -> None:
    from shop.schemas import Charge, Currency, Money, Receipt

    requested = datetime(2026, 11, 29, 8, 30, tzinfo=UTC)
    charge = await shop.enqueue_charge_card(
        Charge(
            order_id=1,
            total=Money(amount=Decimal("12.50"), currency=Currency.USD),
            requested_at=requested,
        )
    )
    receipt = await shop.enqueue_send_receipt(
        Receipt(order_id=1, email="a@b.co", lines=["tea", "cake"])
    )
    stored = await charge.snapshot()
    assert stored is not None
    assert stored.data == {
        "order_id": 1,
        "total": {"amount": "12.50", "currency": "USD"},
        "requested_at": "2026-11-29T08:30:00Z",
    }
    async with shop.create_workers(queues=["orders"]):
        assert await charge.wait_until_finished() == {"charged": "12.50 USD"}
        assert await receipt.wait_until_finished() == {
            "order_id": 1,
            "email": "a@b.co",
            "lines": ["tea", "cake"],
        }


class AttemptStarts(WorkerListener):
    """When each attempt of each job started (wall clock, as BullMQ's due times are)."""

    def __init__(self) -> None:
        self.times: defaultdict[str, list[float]] = defaultdict(list)

    def on_active(self, job: JobInfo) -> None:
        self.times[job.id].append(time.time())


async def test_failed_attempts_are_retried_with_backoff(shop: ModuleType) -> None:
    """``retries``: 3 attempts, exponential backoff of 100 ms: the 2nd attempt is due 100 ms
    after the 1st failed, the 3rd 200 ms after the 2nd (a job is only taken once due)."""
    from shop import jobs

    starts = AttemptStarts()
    job = await shop.enqueue_flaky_task()
    async with shop.create_workers(queues=["retries"], listeners=[starts]):
        result = await job.wait_until_finished(timeout=10)
    assert result == "succeeded after 2 failures"
    assert jobs.ATTEMPTS[job.id] == 3
    stored = await job.snapshot()
    assert stored is not None
    assert stored.attempts_made == 3  # BullMQ counts the completed attempt too
    first, second, third = starts.times[job.id]
    gaps_ms = [(second - first) * 1000, (third - second) * 1000]
    # each attempt failed after it started, and the next one was due its backoff later
    # (-1: BullMQ's timestamps are whole milliseconds)
    assert gaps_ms[0] >= 100 - 1, gaps_ms
    assert gaps_ms[1] >= 200 - 1, gaps_ms  # exponential: twice the first delay


async def test_a_worker_of_a_shared_queue_cannot_run_alone(shop: ModuleType) -> None:
    with pytest.raises(ValueError, match="shares queue 'orders' with 'auditLog', 'sendReceipt'"):
        shop.create_workers(workers=["chargeCard"])
    with pytest.raises(ValueError, match="unknown queue or worker names: 'nope'"):
        shop.create_workers(queues=["nope"])
    group = shop.create_workers(workers=["chargeCard", "sendReceipt", "auditLog"])
    assert group.queue_names == ("orders",)


async def test_the_limiter_holds_and_resumes_on_time(shop: ModuleType) -> None:
    """5 jobs per 1000 ms: 20 jobs take four windows one after the other, so at least 3 s."""
    jobs = await shop.enqueue_ping_bulk(20)
    async with shop.create_workers(queues=["throttled"]):
        for job in jobs:
            await job.wait_until_finished(timeout=15)
    started = []
    for job in jobs:
        stored = await job.snapshot()
        assert stored is not None
        assert stored.processed_on is not None
        started.append(stored.processed_on)
    started.sort()
    span = started[-1] - started[0]
    assert span >= 3000 - 50, span  # never more than 5 in a window
    # within any 1000 ms from a window's first job, at most 5 jobs started
    for index in range(0, 20, 5):
        window = [t for t in started if started[index] <= t < started[index] + 950]
        assert len(window) <= 5, (index, window)
    # the windows came one after the other: each group of 5 started after the previous one
    groups = [started[index : index + 5] for index in range(0, 20, 5)]
    gaps = [later[0] - earlier[0] for earlier, later in itertools.pairwise(groups)]
    assert min(gaps) >= 1000 - 50, gaps
    # and the worker resumed when each window ended, not after a drainDelay (5 s, what
    # bullmq-py's worker waits): 4 s of room per window for a loaded machine
    assert max(gaps) < 5000, gaps


async def test_a_result_that_is_not_json_fails_the_job_with_a_clear_reason(
    shop: ModuleType,
) -> None:
    job = await shop.enqueue_bad_result()
    async with shop.create_workers(queues=["reports"]):
        with pytest.raises(JobFailedError) as failure:
            await job.wait_until_finished(timeout=10)
    assert failure.value.reason.startswith("the processor returned set, which is not JSON")
    stored = await job.snapshot()
    assert stored is not None
    assert stored.attempts_made == 2  # a processor error: retried as the job's attempts say


async def test_progress_and_logs(shop: ModuleType) -> None:
    job = await shop.enqueue_with_progress()
    async with shop.create_workers(queues=["reports"]):
        assert await job.wait_until_finished(timeout=10) == 1
    stored = await job.snapshot()
    assert stored is not None
    assert stored.progress == 100
    context = shop.reports_queue.context()
    assert await context.client.lrange(context.keys[""] + f"{job.id}:logs", 0, -1) == ["halfway"]
