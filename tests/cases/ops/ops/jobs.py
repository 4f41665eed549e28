"""A queue of jobs that record when they start and finish, in Redis (test case).

Each job sleeps ``ms`` milliseconds. Starts and finishes are pushed to the lists
``<prefix>:test:starts`` and ``<prefix>:test:finishes`` by the process that ran
them, so a test can tell which jobs ran, how often, and which were cut short.
Each event loop that runs a job pushes its selector's class name to
``<prefix>:test:selectors`` once.
"""

from __future__ import annotations

import asyncio
import os

from pydantic import BaseModel
from redis.asyncio import Redis

from bullmq_codegen import Job, create_queue_config

URL = os.environ.get("BULLMQ_TEST_REDIS_URL", "redis://localhost:6379/0")
PREFIX = os.environ.get("BULLMQ_PREFIX", "bull")
_clients: dict[int, Redis] = {}
_loops_seen: set[int] = set()


class Task(BaseModel):
    """How long to work."""

    ms: int


def recorder() -> Redis:
    """A client for the records, one per event loop."""
    loop = id(asyncio.get_running_loop())
    if loop not in _clients:
        _clients[loop] = Redis.from_url(URL, decode_responses=True)
    return _clients[loop]


async def work(job: Job[Task]) -> int:
    """Record the start, sleep, record the finish."""
    tag = f"{job.id}:{os.getpid()}"
    loop = asyncio.get_running_loop()
    if id(loop) not in _loops_seen:
        _loops_seen.add(id(loop))
        selector = getattr(loop, "_selector", None)
        await recorder().rpush(f"{PREFIX}:test:selectors", type(selector).__name__)
    await recorder().rpush(f"{PREFIX}:test:starts", tag)
    await asyncio.sleep(job.payload.ms / 1000)
    await recorder().rpush(f"{PREFIX}:test:finishes", tag)
    return job.payload.ms


queue_config = create_queue_config(
    queues={
        "work": {
            "options": {"defaultJobOptions": {"removeOnComplete": False, "attempts": 3}},
            "workers": {
                "task": {
                    "schema": Task,
                    "processor": work,
                    "options": {"concurrency": 50, "lockDuration": 2000, "stalledInterval": 1000, "maxStalledCount": 3},
                }
            },
        }
    },
    connection=URL,
    prefix=PREFIX,
)
