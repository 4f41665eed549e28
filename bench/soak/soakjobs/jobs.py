"""One queue, one job name, whose processor records every run in Redis (soak case).

Each job carries its sequence number. Its processor records, with commands of
its own (a client apart from the worker's):

- the start: bit ``seq`` of ``soakrec:started`` and of ``soakrec:started:<pid>``
  (who started it); a start whose bit was already set (``"again": true``: the
  processor runs a second time) or of a job BullMQ took before (``ats`` above 1,
  or an earlier failed attempt) is pushed, as JSON, to ``soakrec:restarts``;
- the finish: bit ``seq`` of ``soakrec:done``; a finish whose bit was already
  set is pushed to ``soakrec:done_again``.

A record sent again after a connection error says so (``"resent": true``): its
first sending may have landed, so an already-set bit then proves nothing by
itself (the other processes' ``started`` bits settle it).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, Field
from redis.asyncio import Redis
from redis.exceptions import BusyLoadingError, ConnectionError, TimeoutError

from bullmq_codegen import Job, create_queue_config

URL = os.environ.get("SOAK_REDIS_URL", "redis://127.0.0.1:6379/0")
PREFIX = os.environ.get("SOAK_PREFIX", "soak")
RECORDS = "soakrec"
RECORD_PATIENCE_S = 120.0
"""How long a record is sent again while Redis is unreachable (it restarts mid-soak)."""
_clients: dict[int, Redis] = {}
T = TypeVar("T")


class Tick(BaseModel):
    """A job of the soak: its sequence number and how long it works."""

    seq: int = Field(ge=0)
    ms: int = Field(ge=0)


def recorder() -> Redis:
    """A client for the records, one per event loop."""
    loop = id(asyncio.get_running_loop())
    if loop not in _clients:
        _clients[loop] = Redis.from_url(URL)
    return _clients[loop]


async def _send(command: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
    """``command()``'s reply, sent again on connection errors; and whether it was resent."""
    deadline = time.monotonic() + RECORD_PATIENCE_S
    resent = False
    while True:
        try:
            return await command(), resent
        except (ConnectionError, TimeoutError, BusyLoadingError):
            if time.monotonic() > deadline:
                raise
            resent = True
            await asyncio.sleep(0.2)


async def _record_start(job: Job[Tick]) -> None:
    seq = job.payload.seq

    async def started() -> list[Any]:
        pipe = recorder().pipeline(transaction=True)
        pipe.setbit(f"{RECORDS}:started", seq, 1)
        pipe.setbit(f"{RECORDS}:started:{os.getpid()}", seq, 1)
        return list(await pipe.execute())

    (before, _), resent = await _send(started)
    if before or job.attempts_started > 1 or job.attempts_made > 0:
        await _push("restarts", job, resent, again=bool(before))


async def _record_finish(job: Job[Tick]) -> None:
    seq = job.payload.seq

    async def done() -> int:
        return int(await recorder().setbit(f"{RECORDS}:done", seq, 1))

    before, resent = await _send(done)
    if before:
        await _push("done_again", job, resent, again=True)


async def _push(key: str, job: Job[Tick], resent: bool, *, again: bool) -> None:
    entry = {
        "again": again,
        "seq": job.payload.seq,
        "id": job.id,
        "pid": os.getpid(),
        "ats": job.attempts_started,
        "atm": job.attempts_made,
        "resent": resent,
        "at": time.time(),
    }

    async def push() -> int:
        return int(await recorder().rpush(f"{RECORDS}:{key}", json.dumps(entry)))

    await _send(push)


async def tick(job: Job[Tick]) -> None:
    """Record the start, work ``ms`` milliseconds (waiting, as I/O would), record the finish."""
    await _record_start(job)
    await asyncio.sleep(job.payload.ms / 1000)
    await _record_finish(job)


queue_config = create_queue_config(
    queues={
        "soak": {
            "options": {
                "defaultJobOptions": {
                    "removeOnComplete": True,
                    "removeOnFail": False,
                    "attempts": 3,
                    "backoff": {"type": "fixed", "delay": 1000},
                }
            },
            "workers": {
                "tick": {
                    "schema": Tick,
                    "processor": tick,
                    "options": {"concurrency": int(os.environ.get("SOAK_CONCURRENCY", "50"))},
                }
            },
        }
    },
    connection=URL,
    prefix=PREFIX,
)
