"""Tests of the shop's jobs, on a real Redis, with bullmq-codegen's pytest plugin.

Needs ``pip install pytest pytest-asyncio`` and, in pyproject.toml::

    [tool.pytest.ini_options]
    asyncio_mode = "auto"
    bullmq_generated = "shop.generated"   # the package bullmq-codegen generated

Each test gets its own key prefix on a throwaway redis-server (or on REDIS_URL).
"""

from __future__ import annotations

from shop.generated import (
    charge_order_worker,
    enqueue_charge_order,
    orders_queue,
    receipts_queue,
    send_receipt_worker,
)
from shop.jobs import Order, Receipt, ReceiptEmail

from bullmq_codegen.runtime import Runtime
from bullmq_codegen.testing import BullMQWorkers, record_processor, run_processor

ORDER = Order(order_id=7, amount_cents=1250, email="ann@example.com")


async def test_charging_an_order_returns_its_receipt(bullmq_runtime: Runtime) -> None:
    # One processor, called directly with a job built from the payload. What it
    # does is real: the receipt e-mail it enqueues lands in the test's Redis.
    run = await record_processor(charge_order_worker, ORDER)

    assert run.result == Receipt(order_id=7, charged_cents=1250)  # typed: Receipt
    assert run.progress == [50, 100]
    assert run.logs == ["charging order 7"]
    assert (await receipts_queue.counts()).waiting == 1


async def test_a_receipt_needs_no_redis() -> None:
    # A processor that touches no queue runs without any fixture.
    assert await run_processor(send_receipt_worker, ReceiptEmail(to="a@b.c", order_id=1)) is None


async def test_an_order_is_charged_then_its_receipt_sent(bullmq_workers: BullMQWorkers) -> None:
    job = await enqueue_charge_order(ORDER)

    # The application's own workers, in this process, until no job is left to
    # run (the receipt the charge enqueues included); a job that fails for good
    # fails the test with its traceback.
    report = await bullmq_workers.run_until_drained(timeout=10)

    assert sorted((done.queue, done.name) for done in report.completed) == [
        ("orders", "chargeOrder"),
        ("receipts", "sendReceipt"),
    ]
    stored = await orders_queue.get_job(job.id)
    assert stored is not None
    assert stored.return_value == {"order_id": 7, "charged_cents": 1250}


async def test_every_test_has_queues_of_its_own(bullmq_runtime: Runtime) -> None:
    # The previous test's jobs are under another key prefix.
    counts = await orders_queue.counts()
    assert counts.completed == counts.waiting == 0
