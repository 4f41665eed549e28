"""One queue behind Redis Sentinel: the sentinels say where the master is (test case)."""

from __future__ import annotations

import asyncio
import collections
import os

from pydantic import BaseModel

from bullmq_codegen import Job, create_queue_config


class Item(BaseModel):
    """A numbered item, so the test can tell which jobs ran."""

    number: int


ran: collections.Counter[int] = collections.Counter()
"""How many times each item's job ran in this process."""


async def handle(job: Job[Item]) -> int:
    """Counts the item's run; returns its number."""
    await asyncio.sleep(0.002)
    ran[job.payload.number] += 1
    return job.payload.number


queue_config = create_queue_config(
    queues={"items": {"workers": {"handle": {"schema": Item, "processor": handle, "options": {"concurrency": 16}}}}},
    connection={
        "sentinels": [
            (host, int(port))
            for host, port in (
                address.rsplit(":", 1) for address in os.environ["SENTINELS"].split(",")
            )
        ],
        "service": os.environ.get("SENTINEL_SERVICE", "mymaster"),
        "password": os.environ.get("REDIS_PASSWORD"),
        "sentinel_password": os.environ.get("SENTINEL_PASSWORD"),
    },
    prefix=os.environ.get("BULLMQ_PREFIX", "bull"),
)
