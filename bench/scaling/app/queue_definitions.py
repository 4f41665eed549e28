"""Queues of the scaling and latency benchmarks (``python -m bench.scaling``).

Scaling: four no-op queues and four ~1 ms queues, one worker each at
concurrency 10, so 1, 2 or 4 runner processes can share one queue or take one
queue each. Latency: one no-op and one ~1 ms queue whose jobs carry the
monotonic time their producer called add; the processor notes when it started,
so the worker process (``bench.scaling.worker``) can tell add-to-start and,
on completion, add-to-complete.
"""

from __future__ import annotations

import asyncio
import os
import time

from pydantic import BaseModel

from bullmq_codegen import Job, create_queue_config
from bullmq_codegen.definitions import Processor, QueueDefinition

CONCURRENCY = 10
"""Each worker's concurrency, in every process (Node's workers use the same)."""
QUEUES_PER_KIND = 4


class Stamp(BaseModel):
    """A latency job: when it was sent, and which phase of the run it belongs to."""

    sent_ns: int
    """``time.monotonic_ns()`` (Node: ``process.hrtime.bigint()``, the same clock) before add."""
    phase: int
    """0 for the backlog the maximum throughput is measured on (not recorded), then 1, 2..."""


STARTED: dict[str, tuple[int, int, int]] = {}
"""Job id → (phase, sent, processor started) of the stamped jobs running in this process."""


async def noop(job: Job[None]) -> None:
    """No-op."""


async def one_ms(job: Job[None]) -> None:
    """About a millisecond of waiting (I/O, not CPU)."""
    await asyncio.sleep(0.001)


def _started(job: Job[Stamp]) -> None:
    if job.payload.phase:
        STARTED[job.id] = (job.payload.phase, job.payload.sent_ns, time.monotonic_ns())


async def stamped_noop(job: Job[Stamp]) -> None:
    """No-op; notes when it started."""
    _started(job)


async def stamped_one_ms(job: Job[Stamp]) -> None:
    """About a millisecond of waiting; notes when it started."""
    _started(job)
    await asyncio.sleep(0.001)


def _queue(job: str, processor: Processor) -> QueueDefinition:
    return {
        "options": {"defaultJobOptions": {"removeOnComplete": True}},
        "workers": {job: {"processor": processor, "options": {"concurrency": CONCURRENCY}}},
    }


def _stamped_queue(job: str, processor: Processor) -> QueueDefinition:
    return {
        "options": {"defaultJobOptions": {"removeOnComplete": True}},
        "workers": {
            job: {
                "schema": Stamp,
                "processor": processor,
                "options": {"concurrency": CONCURRENCY},
            }
        },
    }


queue_config = create_queue_config(
    queues={
        **{f"noop{index}": _queue(f"noopJob{index}", noop) for index in range(QUEUES_PER_KIND)},
        **{f"sleep{index}": _queue(f"sleepJob{index}", one_ms) for index in range(QUEUES_PER_KIND)},
        "latencyNoop": _stamped_queue("stampedNoop", stamped_noop),
        "latencySleep": _stamped_queue("stampedSleep", stamped_one_ms),
    },
    connection=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
    prefix=os.environ.get("BENCH_PREFIX", "bench"),
)
