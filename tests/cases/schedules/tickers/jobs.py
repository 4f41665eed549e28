"""Schedules declared by workers, and a queue whose only scheduler Node creates (test case).

Every job a processor runs is recorded in the list ``<prefix>:test:runs`` (one
JSON object per run: job id, name, label, process id), so a test can count how
often each scheduler fired and in which process.

``SCHEDULES_VARIANT`` picks the declarations: ``full`` (the default), ``reduced``
(``each-second``, ``beat`` and ``twice`` removed), or ``bench`` (only ``per-second``, every 1000 ms).
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from pydantic import BaseModel, Field
from redis.asyncio import Redis

from bullmq_codegen import Job, create_queue_config
from bullmq_codegen.definitions.options import ScheduleOptions

URL = os.environ.get("BULLMQ_TEST_REDIS_URL", "redis://localhost:6379/0")
PREFIX = os.environ.get("BULLMQ_PREFIX", "bull")
VARIANT = os.environ.get("SCHEDULES_VARIANT", "full")
_clients: dict[int, Redis] = {}


class Tick(BaseModel):
    """What a scheduled tick carries."""

    label: str
    weight: int = Field(ge=0, alias="weightKg")


def recorder() -> Redis:
    """A client for the records, one per event loop."""
    loop = id(asyncio.get_running_loop())
    if loop not in _clients:
        _clients[loop] = Redis.from_url(URL, decode_responses=True)
    return _clients[loop]


async def record(job: Job[Any], label: str | None) -> None:
    """Push this run to ``<prefix>:test:runs``."""
    run = {"id": job.id, "name": job.name, "label": label, "pid": os.getpid()}
    await recorder().rpush(f"{PREFIX}:test:runs", json.dumps(run))


async def tick(job: Job[Tick]) -> str:
    """Record a tick (its payload validated as a ``Tick``)."""
    assert isinstance(job.payload, Tick)
    await record(job, f"{job.payload.label}:{job.payload.weight}")
    return job.payload.label


async def beat(job: Job[None]) -> None:
    """Record a beat (no payload)."""
    await record(job, None)


async def from_node(job: Job[None]) -> None:
    """Record a job of a scheduler that Node created."""
    await record(job, None)


tick_schedules: dict[str, ScheduleOptions[Tick]] = {
    "half-second": {"every": 500, "payload": Tick(label="half", weightKg=1)},
    "each-second": {
        "pattern": "*/1 * * * * *",
        "tz": "Europe/Paris",
        "payload": Tick(label="cron", weightKg=2),
        "jobOptions": {"attempts": 2, "removeOnComplete": 1000},
    },
}
beat_schedules: dict[str, ScheduleOptions[None]] = {
    "beat": {"every": 700},
    "twice": {"every": 300, "limit": 2},
}
if VARIANT == "reduced":
    del tick_schedules["each-second"]
    beat_schedules = {}
elif VARIANT == "bench":
    tick_schedules = {"per-second": {"every": 1000, "payload": Tick(label="bench", weightKg=0)}}
    beat_schedules = {}

queue_config = create_queue_config(
    queues={
        "ticks": {
            "options": {"defaultJobOptions": {"removeOnFail": 50, "priority": 3}},
            "workers": {
                "tick": {
                    "schema": Tick,
                    "processor": tick,
                    "defaultJobOptions": {"priority": 5, "keepLogs": 10},
                    "schedules": tick_schedules,
                    "options": {"concurrency": 5},
                },
                "beat": {"processor": beat, "schedules": beat_schedules},
            },
        },
        "nodeTicks": {"workers": {"fromNode": {"processor": from_node}}},
    },
    connection=URL,
    prefix=PREFIX,
)
