"""Worker heartbeats in Redis, and the health report any process can read from them.

Every running queue worker writes a heartbeat (state and counts) into a hash
beside its queue's keys, ``<prefix>:<queue>:bcg-workers``, every few seconds,
and removes it when it closes. An API process reads them with
``get_worker_health()`` (generated in ``queues.py``) without importing or
starting any worker: the original design's ``/health/workers``, checked via
Redis. A worker that stops beating (killed, hung, cut off) counts as dead after
three missed beats, and its entry is removed (by any live worker of the queue)
after ten. Liveness compares the writer's clock with the reader's: keep hosts
in sync (NTP), as BullMQ's delays already need.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal, TypedDict

from .queue_context import QueueContext
from .resp import hash_reply, pack

__all__ = [
    "HEARTBEAT_FIELD",
    "QueueHealth",
    "WorkerHealth",
    "WorkerHealthReport",
    "heartbeat_key",
    "read_health",
    "stale_heartbeats",
]

HEARTBEAT_FIELD = "bcg-workers"
"""The key suffix of a queue's heartbeat hash."""
_MISSED_BEATS = 3
_FORGET_AFTER_BEATS = 10


def stale_heartbeats(raw: object, now_ms: int) -> list[str]:
    """Worker ids whose heartbeat is older than ten of its intervals (killed or lost)."""
    pairs = hash_reply(raw)
    stale: list[str] = []
    for worker_id, value in pairs.items():
        try:
            beat = json.loads(value)
            if now_ms - int(beat["heartbeat_at"]) > _FORGET_AFTER_BEATS * int(beat["interval_ms"]):
                stale.append(str(worker_id))
        except (ValueError, KeyError, TypeError):
            stale.append(str(worker_id))
    return stale


def heartbeat_key(ctx: QueueContext) -> str:
    """The hash that holds the heartbeats of ``ctx``'s queue (same hash slot as the queue)."""
    return ctx.keys[""] + HEARTBEAT_FIELD


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """What one queue worker says about itself."""

    worker_id: str
    queue: str
    host: str
    pid: int
    state: str
    started_at: int
    heartbeat_at: int
    interval_ms: int
    job_names: list[str]
    concurrency: int
    completed: int
    failed: int
    invalid_payloads: int
    active: int

    @classmethod
    def here(cls, **fields: Any) -> Heartbeat:
        """A heartbeat of this process (host and pid filled in)."""
        return cls(
            host=socket.gethostname(),
            pid=os.getpid(),
            heartbeat_at=int(time.time() * 1000),
            **fields,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))


class WorkerHealth(TypedDict):
    """One worker process's view of one queue, as ``/health/workers`` shows it."""

    id: str
    host: str
    pid: int
    state: str
    alive: bool
    lastHeartbeat: int
    secondsSinceHeartbeat: float
    startedAt: int
    jobNames: list[str]
    concurrency: int
    completed: int
    failed: int
    invalidPayloads: int
    active: int


class QueueHealth(TypedDict):
    """The workers of one queue."""

    alive: int
    workers: list[WorkerHealth]


class WorkerHealthReport(TypedDict):
    """``ok``: every queue has a live worker; ``degraded``: some have none; ``down``: none has."""

    status: Literal["ok", "degraded", "down"]
    checkedAt: int
    queues: dict[str, QueueHealth]


def _worker(raw: str, now: int) -> WorkerHealth | None:
    try:
        beat = json.loads(raw)
        age = max(now - int(beat["heartbeat_at"]), 0)
        return WorkerHealth(
            id=str(beat["worker_id"]),
            host=str(beat["host"]),
            pid=int(beat["pid"]),
            state=str(beat["state"]),
            alive=age <= _MISSED_BEATS * int(beat["interval_ms"])
            and beat["state"] in ("running", "paused"),
            lastHeartbeat=int(beat["heartbeat_at"]),
            secondsSinceHeartbeat=round(age / 1000, 3),
            startedAt=int(beat["started_at"]),
            jobNames=[str(name) for name in beat["job_names"]],
            concurrency=int(beat["concurrency"]),
            completed=int(beat["completed"]),
            failed=int(beat["failed"]),
            invalidPayloads=int(beat["invalid_payloads"]),
            active=int(beat["active"]),
        )
    except (ValueError, KeyError, TypeError):
        return None  # written by another version: ignored, expires with its hash


async def read_health(contexts: Iterable[QueueContext]) -> WorkerHealthReport:
    """The workers of each queue, from their heartbeats; dead entries are listed as not alive."""
    now = int(time.time() * 1000)
    contexts = list(contexts)
    # every queue's hash at once: one batch on the auto-pipelined connection(s), not a round
    # trip per queue
    replies = await asyncio.gather(
        *(ctx.pipeline.execute(pack("HGETALL", heartbeat_key(ctx))) for ctx in contexts)
    )
    queues: dict[str, QueueHealth] = {}
    for ctx, raw in zip(contexts, replies, strict=True):
        beats = hash_reply(raw).values()
        workers = [w for w in (_worker(value, now) for value in beats) if w is not None]
        workers.sort(key=lambda worker: (worker["host"], worker["pid"], worker["id"]))
        queues[ctx.name] = QueueHealth(alive=sum(w["alive"] for w in workers), workers=workers)
    served = sum(1 for queue in queues.values() if queue["alive"])
    status: Literal["ok", "degraded", "down"] = (
        "ok" if served == len(queues) else ("down" if served == 0 else "degraded")
    )
    return WorkerHealthReport(status=status, checkedAt=now, queues=queues)
