"""A shop's background jobs: the whole BullMQ job model, defined once and typed.

The README's "The job model" section quotes this module and ``usage.py``; a test
runs them (``tests/e2e/test_storefront_example.py``). Run ``bullmq-codegen generate
--config examples/storefront/jobs.py`` to (re)write ``generated/`` beside it.
"""

from __future__ import annotations

import asyncio
import os
import random

from pydantic import BaseModel, Field

from bullmq_codegen import Job, create_queue_config, define_worker

# -- payloads, results, progress ----------------------------------------------------------------


class Order(BaseModel):
    """An order to place."""

    order_id: int = Field(alias="orderId")
    items: list[str]


class Receipt(BaseModel):
    """What placing an order returns."""

    order_id: int = Field(alias="orderId")
    total_cents: int


class Shipment(BaseModel):
    """A parcel to announce to the customer."""

    order_id: int
    carrier: str = "post"


class CatalogImport(BaseModel):
    """A supplier's catalog to import."""

    supplier: str
    rows: int


class ImportProgress(BaseModel):
    """How far an import is."""

    done: int
    total: int


class Pick(BaseModel):
    """One item to take from the shelf."""

    sku: str


class Parcel(BaseModel):
    """A parcel to pack once its items are picked."""

    order_id: int


class Charge(BaseModel):
    """A card payment to take."""

    order_id: int
    cents: int


# -- processors -----------------------------------------------------------------------------------


async def place_order(job: Job[Order]) -> Receipt:
    """Places the order."""
    return Receipt(orderId=job.payload.order_id, total_cents=250 * len(job.payload.items))


async def notify_shipping(job: Job[Shipment]) -> None:
    """Tells the customer the parcel is on its way."""


async def import_catalog(job: Job[CatalogImport, ImportProgress]) -> int:
    """Imports the rows one by one, reporting progress typed as ``ImportProgress``."""
    for row in range(1, job.payload.rows + 1):
        await asyncio.sleep(0.01)
        await job.update_progress(ImportProgress(done=row, total=job.payload.rows))
    return job.payload.rows


async def pick_item(job: Job[Pick]) -> str:
    """Takes one item from the shelf; returns the shelf it came from."""
    return f"shelf-{job.payload.sku[0]}"


async def pack_parcel(job: Job[Parcel]) -> list[str]:
    """Packs a parcel once every item is picked: the children's results, typed."""
    shelves = await job.children_results(str)
    return sorted(shelves.values())


FLAKY_CARDS: set[int] = set()
"""Orders whose first two payment attempts fail (the payment provider is flaky)."""


async def charge_card(job: Job[Charge]) -> str:
    """Takes the payment; fails the first two attempts of a flaky order."""
    if job.payload.order_id in FLAKY_CARDS and job.attempts_made < 2:
        raise RuntimeError("payment provider timed out")
    return f"paid-{job.payload.order_id}"


def jittered(attempts_made: int, backoff_type: str, error: BaseException, job: Job[Charge]) -> int:
    """The ``jitter`` backoff: 100 ms, 200 ms, 400 ms... plus up to 50 ms at random."""
    return 100 * (1 << max(attempts_made - 1, 0)) + random.randint(0, 50)


async def send_digest(job: Job[None]) -> None:
    """Sends the daily sales digest."""


# -- the definitions ------------------------------------------------------------------------------

queue_config = create_queue_config(
    queues={
        "orders": {
            "options": {"defaultJobOptions": {"attempts": 3, "removeOnComplete": 1000}},
            "workers": {
                "placeOrder": define_worker(
                    schema=Order,
                    processor=place_order,
                    # one job per order, whoever enqueues it and however often
                    jobId=lambda order: f"order-{order.order_id}",
                    options={"concurrency": 10},
                ),
                "chargeCard": define_worker(
                    schema=Charge,
                    processor=charge_card,
                    defaultJobOptions={"attempts": 5, "backoff": {"type": "jitter"}},
                    backoffStrategy=jittered,
                ),
            },
        },
        "shipping": {
            "workers": {
                "notifyShipping": define_worker(
                    schema=Shipment,
                    processor=notify_shipping,
                    # one notification per order per hour, however often it is asked for
                    deduplication={"id": lambda shipment: str(shipment.order_id), "ttl": 3_600_000},
                    # this job name waits 2 s; others of the queue do not
                    defaultJobOptions={"delay": 2000},
                ),
                "pickItem": define_worker(schema=Pick, processor=pick_item),
                "packParcel": define_worker(schema=Parcel, processor=pack_parcel),
            },
        },
        "catalog": {
            "workers": {
                "importCatalog": define_worker(
                    schema=CatalogImport,
                    processor=import_catalog,
                    progress=ImportProgress,
                    defaultJobOptions={"lifo": True, "priority": 10},
                ),
                "sendDigest": define_worker(
                    processor=send_digest,
                    schedules={
                        "daily-digest": {"pattern": "0 7 * * *", "tz": "Europe/Paris"},
                        "heartbeat": {"every": 60_000},
                    },
                ),
            },
        },
    },
    connection=os.environ.get("REDIS_URL", "redis://localhost:6379/0"),
    prefix=os.environ.get("BULLMQ_PREFIX", "bull"),
)
