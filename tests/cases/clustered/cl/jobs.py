"""Two queues on a Redis Cluster, under a hash-tagged prefix (test case)."""

from __future__ import annotations

import os

from pydantic import BaseModel

from bullmq_codegen import Job, create_queue_config


class Order(BaseModel):
    """An order to bill."""

    number: int


async def bill(job: Job[Order]) -> int:
    """Returns the order number."""
    return job.payload.number


async def notify(job: Job[None]) -> str:
    """Returns the job id."""
    return job.id


queue_config = create_queue_config(
    queues={
        "billing": {"workers": {"bill": {"schema": Order, "processor": bill, "options": {"concurrency": 10}}}},
        "notices": {"workers": {"notify": {"processor": notify}}},
    },
    connection={
        "host": "127.0.0.1",
        "port": int(os.environ.get("CLUSTER_SEED_PORT", "7000")),
        "cluster": True,
    },
    prefix=os.environ.get("BULLMQ_PREFIX", "{bull}"),
)
