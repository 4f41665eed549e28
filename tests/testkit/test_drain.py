"""``run_until_drained``: the application's workers, in-process, until nothing is left to run."""

from __future__ import annotations

from types import ModuleType

import pytest

from bullmq_codegen import Job
from bullmq_codegen.runtime import Runtime
from bullmq_codegen.testing import DrainTimeoutError, JobsFailedError, run_until_drained


def order(number: int) -> object:
    from shop.jobs import Order

    return Order(order_id=number, amount_cents=100, email=f"c{number}@example.com")


def runtime_of(shop: ModuleType) -> Runtime:
    runtime: Runtime = shop.queues.runtime
    return runtime


async def test_jobs_enqueued_by_processors_are_run_too(shop_on_redis: ModuleType) -> None:
    shop = shop_on_redis
    await shop.enqueue_charge_order(order(1))
    await shop.enqueue_charge_order(order(2))
    report = await run_until_drained(shop.create_workers(), runtime_of(shop))
    assert sorted((job.queue, job.name) for job in report.completed) == [
        ("orders", "chargeOrder"),
        ("orders", "chargeOrder"),
        ("receipts", "sendReceipt"),
        ("receipts", "sendReceipt"),
    ]
    assert (report.failed, report.retried, report.delayed_later) == ((), (), 0)
    assert (await shop.receipts_queue.counts()).completed == 2


async def test_only_the_selected_queues_are_run_and_waited_for(shop_on_redis: ModuleType) -> None:
    shop = shop_on_redis
    await shop.enqueue_charge_order(order(1))
    report = await run_until_drained(shop.create_workers(queues=["orders"]), runtime_of(shop))
    assert [job.name for job in report.completed] == ["chargeOrder"]
    assert (await shop.receipts_queue.counts()).waiting == 1


async def test_retries_are_waited_for(
    shop_on_redis: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = shop_on_redis
    charge = shop.charge_order_worker.processor

    async def fails_once(job: Job[object]) -> object:
        if job.attempts_made == 0:
            raise ConnectionError("gateway timeout")
        return await charge(job)

    monkeypatch.setattr(shop.charge_order_worker, "processor", fails_once)
    await shop.enqueue_charge_order(order(1), attempts=2, backoff={"type": "fixed", "delay": 300})
    report = await run_until_drained(shop.create_workers(), runtime_of(shop))
    assert [failure.describe() for failure in report.retried] == [
        "job 1 'chargeOrder' of queue 'orders' (attempt 1): ConnectionError: gateway timeout"
    ]
    assert sorted(job.name for job in report.completed) == ["chargeOrder", "sendReceipt"]


async def test_delayed_jobs_due_later_are_left_and_counted(shop_on_redis: ModuleType) -> None:
    shop = shop_on_redis
    await shop.enqueue_charge_order(order(1), delay=60_000)
    report = await run_until_drained(shop.create_workers(), runtime_of(shop))
    assert (report.completed, report.delayed_later) == ((), 1)


async def test_delayed_within_waits_for_jobs_due_soon(shop_on_redis: ModuleType) -> None:
    shop = shop_on_redis
    await shop.enqueue_charge_order(order(1), delay=300)
    await shop.enqueue_charge_order(order(2), delay=60_000)
    report = await run_until_drained(shop.create_workers(), runtime_of(shop), delayed_within=2)
    assert sorted(job.name for job in report.completed) == ["chargeOrder", "sendReceipt"]
    assert report.delayed_later == 1


async def test_failed_jobs_fail_the_drain_with_their_tracebacks(
    shop_on_redis: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = shop_on_redis

    async def declined(job: Job[object]) -> object:
        raise ValueError(f"card declined for {job.id}")

    monkeypatch.setattr(shop.charge_order_worker, "processor", declined)
    await shop.enqueue_charge_order(order(1))
    with pytest.raises(JobsFailedError) as raised:
        await run_until_drained(shop.create_workers(), runtime_of(shop))
    message = str(raised.value)
    assert message.startswith(
        "1 job(s) failed while the workers drained their queues:\n"
        "  job 1 'chargeOrder' of queue 'orders' (attempt 1): ValueError: card declined for 1\n"
        "      Traceback (most recent call last):\n"
    )
    assert 'raise ValueError(f"card declined for {job.id}")' in message
    assert len(raised.value.report.failed) == 1

    await shop.enqueue_charge_order(order(2))
    report = await run_until_drained(shop.create_workers(), runtime_of(shop), fail_on_error=False)
    assert [(failure.job.id, str(failure.error)) for failure in report.failed] == [
        ("2", "card declined for 2")
    ]


async def test_invalid_data_fails_as_the_worker_fails_it(shop_on_redis: ModuleType) -> None:
    shop = shop_on_redis
    await shop.enqueue_charge_order({"order_id": 1, "amount_cents": 5, "email": "e@x.io"})
    context = shop.orders_queue.context()
    await context.client.hset(context.job_key("1"), "data", '{"order_id": "one"}')
    with pytest.raises(JobsFailedError, match=r"invalid payload for job 'chargeOrder'"):
        await run_until_drained(shop.create_workers(), runtime_of(shop))


async def test_a_timeout_says_what_is_left(shop_on_redis: ModuleType) -> None:
    shop = shop_on_redis
    await shop.orders_queue.pause()
    await shop.enqueue_charge_order(order(1))
    await shop.enqueue_charge_order(order(2))
    with pytest.raises(DrainTimeoutError) as raised:
        await run_until_drained(shop.create_workers(), runtime_of(shop), timeout=0.3)
    message = str(raised.value)
    assert message.startswith("the workers did not drain their queues in 0.3 s; left:\n")
    assert "queue 'orders': the queue is paused, 2 " in message
    assert "(job 2 'chargeOrder', job 1 'chargeOrder')" in message
    assert "receipts" not in message


async def test_a_timeout_names_the_errors_of_attempts_still_to_retry(
    shop_on_redis: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = shop_on_redis

    async def down(job: Job[object]) -> object:
        raise ConnectionError("gateway down")

    monkeypatch.setattr(shop.charge_order_worker, "processor", down)
    await shop.enqueue_charge_order(
        order(1), attempts=3, backoff={"type": "fixed", "delay": 60_000}
    )
    with pytest.raises(DrainTimeoutError) as raised:
        await run_until_drained(shop.create_workers(), runtime_of(shop), timeout=0.5)
    message = str(raised.value)
    assert "queue 'orders': 1 delayed: 1 to retry a failed attempt (job 1 'chargeOrder')" in message
    assert message.endswith(
        "failed and retried meanwhile:\n"
        "  job 1 'chargeOrder' of queue 'orders' (attempt 1): ConnectionError: gateway down"
    )
