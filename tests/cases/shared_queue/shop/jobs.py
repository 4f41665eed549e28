"""Three workers on one queue, ``orders``, plus a flaky one on ``retries`` (test case)."""

from __future__ import annotations

import asyncio
import os
from collections import Counter

from bullmq_codegen import Job, create_queue_config

from .schemas import Charge, Receipt

RUNS: list[tuple[str, str, str]] = []
"""(processor, job name, job id) of every run, in this process."""
ACTIVE: Counter[str] = Counter()
PEAK: Counter[str] = Counter()
ATTEMPTS: Counter[str] = Counter()


async def _run(processor: str, job_name: str, job_id: str, seconds: float) -> None:
    RUNS.append((processor, job_name, job_id))
    ACTIVE[processor] += 1
    PEAK[processor] = max(PEAK[processor], ACTIVE[processor])
    try:
        await asyncio.sleep(seconds)
    finally:
        ACTIVE[processor] -= 1


async def charge_card(job: Job[Charge]) -> dict[str, str]:
    """Charge the card; returns the charged amount."""
    await _run("charge_card", job.name, job.id, 0.01)
    return {"charged": f"{job.payload.total.amount} {job.payload.total.currency.value}"}


async def send_receipt(job: Job[Receipt]) -> Receipt:
    """Send the receipt; returns it (a model, stored as JSON)."""
    await _run("send_receipt", job.name, job.id, 0.01)
    return job.payload


async def audit_log(job: Job[None]) -> None:
    """Write an audit line (no payload)."""
    await _run("audit_log", job.name, job.id, 0.005)


async def ping(job: Job[None]) -> None:
    """Does nothing, as fast as the rate limit allows."""


async def bad_result(job: Job[None]) -> object:
    """Returns something that is not JSON."""
    return {1, 2}


async def with_progress(job: Job[None]) -> int:
    """Reports progress and writes to the job's log."""
    await job.update_progress({"done": 50})
    rows = await job.log("halfway")
    await job.update_progress(100)
    return rows


async def flaky(job: Job[None]) -> str:
    """Fails its first two attempts, then succeeds."""
    ATTEMPTS[job.id] += 1
    if job.attempts_made < 2:
        raise RuntimeError(f"attempt {job.attempts_made + 1} fails")
    return f"succeeded after {job.attempts_made} failures"


queue_config = create_queue_config(
    queues={
        "orders": {
            "options": {"defaultJobOptions": {"removeOnComplete": False}},
            "workers": {
                "chargeCard": {
                    "schema": Charge,
                    "processor": charge_card,
                    "options": {"concurrency": 2},
                },
                "sendReceipt": {
                    "schema": Receipt,
                    "processor": send_receipt,
                    "options": {"concurrency": 3},
                },
                "auditLog": {"processor": audit_log, "options": {"concurrency": 1}},
            },
        },
        "retries": {
            "options": {
                "defaultJobOptions": {"attempts": 3, "backoff": {"type": "exponential", "delay": 100}}
            },
            "workers": {"flakyTask": {"processor": flaky}},
        },
        "reports": {
            "options": {"defaultJobOptions": {"attempts": 2}},
            "workers": {
                "badResult": {"processor": bad_result},
                "withProgress": {"processor": with_progress},
            },
        },
        "throttled": {
            "options": {"defaultJobOptions": {"removeOnComplete": False}},
            "workers": {
                "ping": {
                    "processor": ping,
                    "options": {"concurrency": 10, "limiter": {"max": 5, "duration": 1000}},
                }
            },
        },
    },
    connection=os.environ.get("BULLMQ_TEST_REDIS_URL", "redis://localhost:6379/0"),
    prefix=os.environ.get("BULLMQ_PREFIX", "bull"),
)
