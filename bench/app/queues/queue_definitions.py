"""Queues the benchmarks drive: the example's e-mail job, a no-payload job, workers at
concurrency 1/10/100 doing nothing or sleeping ~1 ms, and at 100 sleeping ~10 ms."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Annotated

from pydantic import BaseModel, StringConstraints

from bullmq_codegen import Job, create_queue_config
from bullmq_codegen.definitions import Processor, QueueDefinition

EmailAddress = Annotated[
    str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
]


class EmailSend(BaseModel):
    """The example's payload."""

    to: EmailAddress
    template: str


PROCESSED = [0]
"""Jobs whose processor ran, in this process (the benchmark's clock stops on a count)."""
REACHED: dict[int, asyncio.Event] = {}
"""Count → event set when ``PROCESSED`` reaches it."""
SLEPT = [0.0, 0]
"""Seconds the sleeping processors actually slept, and how many sleeps: the job time."""


FIRST_LAST = [0.0, 0.0]
"""``time.perf_counter()`` when the first processor started, and when the count was reached."""


def _count() -> None:
    PROCESSED[0] += 1
    if PROCESSED[0] == 1:
        FIRST_LAST[0] = time.perf_counter()
    event = REACHED.get(PROCESSED[0])
    if event is not None:
        FIRST_LAST[1] = time.perf_counter()
        event.set()


async def send_email(job: Job[EmailSend]) -> None:
    """No-op."""
    _count()


async def ping(job: Job[None]) -> None:
    """No-op."""
    _count()


async def noop(job: Job[None]) -> None:
    """No-op."""
    _count()


async def _sleep(seconds: float) -> None:
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    SLEPT[0] += time.perf_counter() - started
    SLEPT[1] += 1


async def one_ms(job: Job[None]) -> None:
    """About a millisecond of waiting (I/O, not CPU)."""
    _count()
    await _sleep(0.001)


async def ten_ms(job: Job[None]) -> None:
    """About ten milliseconds of waiting (I/O, not CPU)."""
    _count()
    await _sleep(0.01)


def _worker_queue(concurrency: int, name: str, processor: Processor) -> QueueDefinition:
    return {
        "options": {"defaultJobOptions": {"removeOnComplete": True}},
        "workers": {name: {"processor": processor, "options": {"concurrency": concurrency}}},
    }


queue_config = create_queue_config(
    queues={
        "emailSend": {
            "options": {"defaultJobOptions": {"removeOnComplete": True}},
            "workers": {"afterSignUpEmail": {"schema": EmailSend, "processor": send_email}},
        },
        "pings": {
            "options": {"defaultJobOptions": {"removeOnComplete": True}},
            "workers": {"ping": {"processor": ping}},
        },
        "noopC1": _worker_queue(1, "noopC1Job", noop),
        "noopC10": _worker_queue(10, "noopC10Job", noop),
        "noopC100": _worker_queue(100, "noopC100Job", noop),
        "sleepC10": _worker_queue(10, "sleepC10Job", one_ms),
        "sleepC100": _worker_queue(100, "sleepC100Job", one_ms),
        "sleep10msC100": _worker_queue(100, "sleep10msC100Job", ten_ms),
    },
    connection=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
    prefix=os.environ.get("BENCH_PREFIX", "bench"),
)
