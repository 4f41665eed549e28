"""The job model beyond enqueue-and-run (test case): typed results, per-name defaults,
job ids and deduplication derived from the payload, LIFO and priorities."""

from __future__ import annotations

import asyncio
import os

from pydantic import BaseModel, Field

from bullmq_codegen import Job, create_queue_config, define_worker


class Order(BaseModel):
    """An order to place."""

    order_id: int = Field(alias="orderId")
    sku: str


class Receipt(BaseModel):
    """What placing an order returns."""

    order_id: int = Field(alias="orderId")
    total_cents: int


class Shipment(BaseModel):
    """A shipping notification."""

    order_id: int


class CatalogImport(BaseModel):
    """A catalog to import, row by row."""

    rows: int


class ImportProgress(BaseModel):
    """How far an import is."""

    done: int
    total: int


FAIL_SKU = "broken"


async def place_order(job: Job[Order]) -> Receipt:
    """Places the order; the SKU ``broken`` always fails."""
    if job.payload.sku == FAIL_SKU:
        raise RuntimeError(f"cannot place order {job.payload.order_id}")
    return Receipt(orderId=job.payload.order_id, total_cents=100 * job.payload.order_id)


async def notify_shipping(job: Job[Shipment]) -> None:
    """Notifies the customer."""


async def build_report(job: Job[None]) -> list[int]:
    """Returns when it ran, so tests can see the order jobs ran in."""
    await asyncio.sleep(0.01)
    return [job.timestamp]


async def import_catalog(job: Job[CatalogImport, ImportProgress]) -> int:
    """Imports the rows, reporting progress after each one."""
    for row in range(1, job.payload.rows + 1):
        await asyncio.sleep(0.02)
        await job.update_progress(ImportProgress(done=row, total=job.payload.rows))
    return job.payload.rows


class Secretive(BaseModel):
    """A result whose required field is never stored: it cannot be read back."""

    visible: int
    hidden: str = Field(exclude=True)


async def secretive_report(job: Job[None]) -> Secretive:
    """Returns a result that does not survive its JSON."""
    return Secretive(visible=1, hidden="x")


def order_key(order: Order) -> str:
    """One job per order id."""
    return f"order-{order.order_id}"


queue_config = create_queue_config(
    queues={
        "orders": {
            "options": {"defaultJobOptions": {"attempts": 2, "backoff": 10}},
            "workers": {
                "placeOrder": define_worker(
                    schema=Order,
                    processor=place_order,
                    defaultJobOptions={"priority": 5, "removeOnComplete": 100},
                    jobId=order_key,
                ),
                "notifyShipping": define_worker(
                    schema=Shipment,
                    processor=notify_shipping,
                    defaultJobOptions={"delay": 60_000},
                    deduplication={"id": lambda shipment: f"ship-{shipment.order_id}", "ttl": 60_000},
                ),
            },
        },
        "imports": {
            "workers": {
                "importCatalog": define_worker(
                    schema=CatalogImport, processor=import_catalog, progress=ImportProgress
                ),
            },
        },
        "reports": {
            "workers": {
                "secretiveReport": {"processor": secretive_report},
                "buildReport": {
                    "processor": build_report,
                    "defaultJobOptions": {"lifo": True},
                    "options": {"concurrency": 1},
                },
            },
        },
    },
    connection=os.environ.get("BULLMQ_TEST_REDIS_URL", "redis://localhost:6379/0"),
    prefix=os.environ.get("BULLMQ_PREFIX", "bull"),
)
