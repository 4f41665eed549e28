"""The job model end to end: per-name defaults, typed results, derived job ids and
deduplication (with ``duplicate`` said exactly), bulk errors by index, LIFO and priority."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import pytest

from bullmq_codegen.runtime import BulkValidationError, JobFailedError
from bullmq_codegen.testing import RedisSource

from ..helpers import generated_case, import_fresh, purge_modules


@pytest.fixture
async def shop(redis_env: RedisSource, tmp_path: Path) -> AsyncIterator[ModuleType]:
    root = generated_case("jobmodel", tmp_path, "shopfront/defs.py")
    package = import_fresh(root, "shopfront.generated")
    yield package
    await package.close_connections()
    purge_modules("shopfront")


def defs(shop: ModuleType) -> ModuleType:
    import shopfront.defs

    return shopfront.defs


async def test_options_merge_queue_then_job_name_then_call(shop: ModuleType) -> None:
    order = defs(shop).Order(orderId=1, sku="tea")
    job = await shop.enqueue_place_order(order)
    stored = await job.snapshot()
    assert stored is not None
    assert stored.opts["attempts"] == 2  # the queue's default
    assert stored.opts["priority"] == 5  # the job name's default
    assert await job.state() == "prioritized"
    overridden = await shop.enqueue_place_order(defs(shop).Order(orderId=2, sku="tea"), priority=1)
    stored = await overridden.snapshot()
    assert stored is not None
    assert stored.opts["priority"] == 1
    shipment = await shop.enqueue_notify_shipping(defs(shop).Shipment(order_id=1))
    assert await shipment.state() == "delayed"  # notifyShipping's own delay, not the queue's
    report = await shop.enqueue_build_report()
    assert report.options.get("delay") is None
    assert report.options["lifo"] is True


async def test_and_wait_returns_the_typed_result(shop: ModuleType) -> None:
    async with shop.create_workers():
        receipt = await shop.enqueue_place_order_and_wait(
            defs(shop).Order(orderId=7, sku="tea"), timeout=10
        )
        assert isinstance(receipt, defs(shop).Receipt)
        assert receipt.order_id == 7
        assert receipt.total_cents == 700
        later = await shop.get_place_order_job("order-7").result(timeout=5)
        assert later == receipt
        report = await shop.enqueue_build_report_and_wait(timeout=10)
        assert isinstance(report, list)
        assert isinstance(report[0], int)


async def test_a_failed_job_raises_with_reason_and_attempts(shop: ModuleType) -> None:
    async with shop.create_workers():
        with pytest.raises(JobFailedError) as raised:
            await shop.enqueue_place_order_and_wait(
                defs(shop).Order(orderId=8, sku=defs(shop).FAIL_SKU), timeout=10
            )
    assert "cannot place order 8" in raised.value.reason
    assert raised.value.attempts_made == 2


async def test_a_timeout_leaves_the_job_alone(shop: ModuleType) -> None:
    job = await shop.enqueue_place_order(defs(shop).Order(orderId=9, sku="tea"))
    with pytest.raises(TimeoutError):
        await job.result(timeout=0.3)
    assert await job.state() == "prioritized"  # no worker runs: still waiting its turn
    async with shop.create_workers():
        assert (await job.result(timeout=10)).order_id == 9


async def test_a_derived_job_id_makes_one_job_and_says_which_call_was_a_duplicate(
    shop: ModuleType,
) -> None:
    order = defs(shop).Order(orderId=11, sku="tea")
    jobs = await asyncio.gather(*(shop.enqueue_place_order(order) for _ in range(20)))
    assert {job.id for job in jobs} == {"order-11"}
    assert sorted(job.duplicate for job in jobs) == [False] + [True] * 19
    counts = await shop.orders_queue.counts()
    assert counts.prioritized == 1
    own = await shop.enqueue_place_order(order, jobId="manual-11")  # the call's jobId wins
    assert own.id == "manual-11"
    assert not own.duplicate


async def test_deduplication_from_the_payload(shop: ModuleType) -> None:
    shipment = defs(shop).Shipment(order_id=3)
    first = await shop.enqueue_notify_shipping(shipment)
    second = await shop.enqueue_notify_shipping(shipment)
    assert (first.duplicate, second.duplicate) == (False, True)
    assert second.id == first.id
    other = await shop.enqueue_notify_shipping(defs(shop).Shipment(order_id=4))
    assert not other.duplicate
    assert other.id != first.id
    replaced = await shop.enqueue_notify_shipping(  # the call's deduplication wins
        shipment, deduplication={"id": "ship-3-manual"}
    )
    assert not replaced.duplicate
    assert replaced.id != first.id
    assert (await shop.orders_queue.counts()).delayed == 3


async def test_bulk_names_every_invalid_index_and_adds_nothing(shop: ModuleType) -> None:
    order = defs(shop).Order
    payloads = [
        order(orderId=20, sku="tea"),
        order.model_construct(order_id="x", sku="tea"),
        order(orderId=21, sku="tea"),
        order.model_construct(order_id=22),
    ]
    with pytest.raises(BulkValidationError) as raised:
        await shop.enqueue_place_order_bulk(payloads)
    assert sorted(raised.value.errors) == [1, 3]
    message = str(raised.value)
    assert "2 of 4 payloads" in message
    assert "[1] orderId" in message
    assert "[3] sku" in message
    assert (await shop.orders_queue.counts()).pending == 0
    added = await shop.enqueue_place_order_bulk([payloads[0], payloads[2]])
    assert [job.id for job in added] == ["order-20", "order-21"]  # derived ids in bulk too


async def test_lifo_of_a_job_name_runs_the_newest_first(shop: ModuleType) -> None:
    jobs = [await shop.enqueue_build_report(timestamp=1000 + i) for i in range(5)]
    async with shop.create_workers(queues=["reports"]):
        results = [await job.result(timeout=10) for job in jobs]
    finished = []
    for job in jobs:
        snapshot = await job.snapshot()
        assert snapshot is not None
        assert snapshot.finished_on is not None
        finished.append((snapshot.finished_on, job.id))
    order_run = [job_id for _, job_id in sorted(finished)]
    assert order_run == [job.id for job in reversed(jobs)]
    assert results == [[1000 + i] for i in range(5)]


async def test_progress_is_typed_and_ends_with_the_job(shop: ModuleType) -> None:
    progress_type = defs(shop).ImportProgress
    # delayed, so the iteration has long started when a worker takes the job
    job = await shop.enqueue_import_catalog(defs(shop).CatalogImport(rows=4), delay=1000)
    seen = []
    async with shop.create_workers(queues=["imports"]):
        async for value in job.progress():
            assert isinstance(value, progress_type)
            seen.append((value.done, value.total))
        assert await job.result(timeout=5) == 4
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


async def test_job_events_follow_states_to_the_final_one(shop: ModuleType) -> None:
    job = await shop.enqueue_import_catalog(defs(shop).CatalogImport(rows=1), delay=1000)
    kinds: list[str] = []
    async with shop.create_workers(queues=["imports"]):
        async for event in job.events():
            kinds.append(type(event).__name__)
    assert kinds == ["JobWaiting", "JobActive", "JobProgressed", "JobCompleted"]


async def test_a_typed_listener_hears_its_job_name(shop: ModuleType) -> None:
    completed: list[tuple[str, object]] = []
    progress: list[object] = []
    done = asyncio.Event()

    async def on_completed(job_id: str, rows: int) -> None:
        completed.append((job_id, rows))
        done.set()

    async with shop.listen_import_catalog(
        on_completed=on_completed, on_progress=lambda _id, value: progress.append(value)
    ):
        job = await shop.enqueue_import_catalog(defs(shop).CatalogImport(rows=2))
        async with shop.create_workers(queues=["imports"]):
            await asyncio.wait_for(done.wait(), 10)
    assert completed == [(job.id, 2)]
    assert [(value.done, value.total) for value in progress] == [(1, 2), (2, 2)]  # type: ignore[attr-defined]


async def test_listing_a_job_name_types_payloads_and_flags_stale_ones(shop: ModuleType) -> None:
    from bullmq_codegen.runtime.adding import add_job

    order = defs(shop).Order
    for number in range(5):
        await shop.enqueue_place_order(order(orderId=100 + number, sku="tea"), priority=1)
        await shop.enqueue_notify_shipping(defs(shop).Shipment(order_id=number))  # another name
    # a job an older deploy added, whose data today's schema refuses
    await add_job(shop.orders_queue.context(), "placeOrder", '{"orderId": "x"}', {"priority": 1})
    first = await shop.list_place_order_jobs("prioritized", count=4)
    assert len(first.jobs) == 4
    assert first.next_start is not None
    rest = await shop.list_place_order_jobs("prioritized", start=first.next_start, count=4)
    assert rest.next_start is None
    jobs = first.jobs + rest.jobs
    stale = [job for job in jobs if job.payload_error is not None]
    assert len(stale) == 1
    assert stale[0].payload is None
    assert "orderId" in str(stale[0].payload_error)
    assert sorted(job.payload.order_id for job in jobs if job.payload is not None) == list(
        range(100, 105)
    )
    assert all(isinstance(job.payload, order) for job in jobs if job.payload is not None)
    async with shop.create_workers(queues=["orders"]):
        await shop.get_place_order_job("order-100").result(timeout=10)
    done = await shop.list_place_order_jobs("completed")
    assert done.jobs
    assert all(isinstance(job.result, defs(shop).Receipt) for job in done.jobs)


async def test_duplicate_is_exact_across_connections(shop: ModuleType) -> None:
    from bullmq_codegen.runtime import Producer, Runtime

    config = shop.queues.runtime.config
    runtimes = [Runtime(config) for _ in range(4)]  # four clients, as four processes would
    producers = [
        Producer(runtime.queue("orders"), "placeOrder", defs(shop).Order, defs(shop).place_order)
        for runtime in runtimes
    ]
    order = defs(shop).Order(orderId=31, sku="tea")
    try:
        jobs = await asyncio.gather(
            *(producer.enqueue(order, {}) for producer in producers for _ in range(5))
        )
    finally:
        for runtime in runtimes:
            await runtime.close()
    assert {job.id for job in jobs} == {"order-31"}
    assert sorted(job.duplicate for job in jobs) == [False] + [True] * 19


async def test_a_derived_job_id_that_breaks_bullmq_is_refused(shop: ModuleType) -> None:
    from bullmq_codegen.runtime import InvalidJobOptionsError
    from bullmq_codegen.runtime.job_options import derived_options

    worker = dict(shop.queues.runtime.config.worker("orders", "placeOrder"))
    for made in ("3", "a:b"):  # all digits: an id BullMQ's counter hands out; ':' splits keys
        worker["jobId"] = lambda order, made=made: made
        derive = derived_options(worker)  # type: ignore[arg-type]
        assert derive is not None
        with pytest.raises(InvalidJobOptionsError, match="jobId function returned"):
            derive(defs(shop).Order(orderId=1, sku="tea"))
    counts = await shop.orders_queue.counts()
    assert counts.pending == 0


async def test_a_call_job_id_replaces_the_derived_ids(shop: ModuleType) -> None:
    shipment = defs(shop).Shipment(order_id=40)
    first = await shop.enqueue_notify_shipping(shipment)
    own = await shop.enqueue_notify_shipping(shipment, jobId="ship-40-again")
    assert own.id == "ship-40-again"
    assert not own.duplicate
    assert "deduplication" not in own.options  # the call's jobId replaced the derived dedup
    again = await shop.enqueue_notify_shipping(shipment, jobId="ship-40-again")
    assert again.duplicate
    assert first.id != own.id


async def test_a_result_that_cannot_be_read_back_fails_the_job(shop: ModuleType) -> None:
    async with shop.create_workers(queues=["reports"]):
        with pytest.raises(JobFailedError, match="does not read back as Secretive"):
            await shop.enqueue_secretive_report_and_wait(timeout=10)


async def test_reading_another_job_names_result_says_so(shop: ModuleType) -> None:
    from bullmq_codegen.runtime import InvalidResultError

    shipment = await shop.enqueue_notify_shipping(defs(shop).Shipment(order_id=50), delay=0)
    async with shop.create_workers(queues=["orders"]):
        await shipment.result(timeout=10)
        with pytest.raises(
            InvalidResultError, match="it is a 'notifyShipping' job, not a 'placeOrder'"
        ):
            await shop.get_place_order_job(shipment.id).result(timeout=10)


async def test_a_call_with_a_backoff_the_worker_cannot_compute_is_refused(
    shop: ModuleType,
) -> None:
    from bullmq_codegen.runtime import InvalidJobOptionsError

    with pytest.raises(InvalidJobOptionsError, match="declare the worker's backoffStrategy"):
        await shop.enqueue_place_order(
            defs(shop).Order(orderId=60, sku="tea"), backoff={"type": "jitter", "delay": 1}
        )
    with pytest.raises(ValueError, match="the count must be 0 or more"):
        await shop.enqueue_build_report_bulk(-1)
    assert (await shop.orders_queue.counts()).pending == 0


async def test_a_listing_page_reads_a_bounded_number_of_other_jobs(
    shop: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bullmq_codegen.runtime import stored

    monkeypatch.setattr(stored, "MAX_SCANNED", 300)
    ours = await shop.enqueue_place_order(defs(shop).Order(orderId=70, sku="tea"), delay=60_000)
    shipments = [defs(shop).Shipment(order_id=1000 + n) for n in range(500)]
    await shop.enqueue_notify_shipping_bulk(shipments)  # delayed too, newer than ours
    first = await shop.list_place_order_jobs("delayed", count=5)
    assert first.jobs == []
    assert first.next_start == 400  # read 400 of the others, then returned
    rest = await shop.list_place_order_jobs("delayed", count=5, start=first.next_start)
    assert [job.id for job in rest.jobs] == [ours.id]
    assert rest.next_start is None
