"""How an API process uses the shop's generated code; each function is quoted by the README.

``tests/e2e/test_storefront_example.py`` runs every function here against Redis, with
the generated workers running, so what the README shows works as shown.
"""

from __future__ import annotations

import asyncio

from bullmq_codegen.runtime import JobFailed

from .generated import (
    add_flow,
    catalog_queue,
    enqueue_charge_card_and_wait,
    enqueue_import_catalog,
    enqueue_notify_shipping,
    enqueue_place_order,
    enqueue_place_order_and_wait,
    enqueue_place_order_bulk,
    get_place_order_job,
    list_place_order_jobs,
    listen_import_catalog,
    orders_queue,
    pack_parcel_node,
    pick_item_node,
)
from .jobs import CatalogImport, Charge, Order, Parcel, Pick, Receipt, Shipment


async def typed_results() -> Receipt:
    receipt = await enqueue_place_order_and_wait(Order(orderId=1, items=["tea"]), timeout=30)
    print(receipt.total_cents)  # a Receipt: the processor's return type

    job = await enqueue_place_order(Order(orderId=2, items=["tea", "mug"]))
    return_id_to_client = job.id  # ... and later, in another request:
    later = await get_place_order_job(return_id_to_client).result(timeout=30)
    return later


async def idempotency() -> None:
    first = await enqueue_place_order(Order(orderId=7, items=["tea"]))
    again = await enqueue_place_order(Order(orderId=7, items=["tea"]))  # a retried request
    assert again.duplicate
    assert again.id == first.id == "order-7"

    await enqueue_notify_shipping(Shipment(order_id=7))
    repeat = await enqueue_notify_shipping(Shipment(order_id=7))  # within the hour
    assert repeat.duplicate


async def progress() -> int:
    job = await enqueue_import_catalog(CatalogImport(supplier="acme", rows=3))
    async for step in job.progress():  # ImportProgress instances, until the job ends
        print(f"{step.done}/{step.total}")
    return await job.result()


async def listening() -> list[int]:
    imported: list[int] = []
    heard = asyncio.Event()

    async def on_completed(job_id: str, rows: int) -> None:  # rows: the processor's int
        imported.append(rows)
        heard.set()

    def on_failed(event: JobFailed) -> None:
        print(f"import {event.job_id} failed for good: {event.reason}")

    async with listen_import_catalog(on_completed=on_completed, on_failed=on_failed):
        await enqueue_import_catalog(CatalogImport(supplier="zeta", rows=2))
        await asyncio.wait_for(heard.wait(), timeout=30)
    return imported


async def flows() -> list[str]:
    parcel = pack_parcel_node(
        Parcel(order_id=9),
        children=[pick_item_node(Pick(sku="apple")), pick_item_node(Pick(sku="bread"))],
    )
    added = await add_flow(parcel)  # the whole tree, in one transaction
    return await added.job.result(timeout=30)  # ["shelf-a", "shelf-b"]


async def custom_backoff() -> str:
    return await enqueue_charge_card_and_wait(Charge(order_id=11, cents=999), timeout=30)


async def bulk() -> int:
    orders = [Order(orderId=100 + n, items=["tea"]) for n in range(1000)]
    jobs = await enqueue_place_order_bulk(orders)  # validated first; sent 250 per transaction
    return len(jobs)


async def queue_control() -> None:
    page = await list_place_order_jobs("completed", count=20)
    for stored in page.jobs:
        print(stored.id, stored.payload, stored.result)  # Order | None, Receipt | None
    await orders_queue.retry_failed()
    await orders_queue.clean("completed", grace_ms=3_600_000)
    for scheduler in await catalog_queue.schedulers():
        print(scheduler.id, scheduler.pattern or scheduler.every, scheduler.next_run)
