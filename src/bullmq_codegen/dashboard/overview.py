"""Every queue at a glance: counts by state, paused, the last hour's completions and failures,
and the workers alive, read in one round trip without scanning keys.

Per queue it runs BullMQ's ``getCounts`` and ``getMetrics`` scripts (as Node's
``getJobCounts`` and ``getMetrics`` do), ``HEXISTS`` on its meta key and
``HGETALL`` on its heartbeat hash: a constant number of commands whatever the
number of jobs. The per-minute completions and failures are BullMQ's metrics,
recorded by workers that set the ``metrics`` option (``{"maxDataPoints": 60}``
or more); without it, :attr:`QueueOverview.metrics_recorded` is false and the
workers' own counters (since they started) stand in.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from ..runtime.health import WorkerHealth, read_health
from ..runtime.job_records import JobCounts
from ..runtime.queue import COUNTED_STATES, job_counts
from ..runtime.resp import text_reply

if TYPE_CHECKING:
    from ..runtime.queue_context import QueueContext
    from ..runtime.registry import Runtime

__all__ = ["MINUTES", "Overview", "QueueOverview", "per_minute", "read_overview"]

MINUTES = 60
"""How many minutes the rates cover (the last hour)."""

_GET_METRICS = files("bullmq") / "commands" / "getMetrics-2.lua"
"""BullMQ's script behind Node's ``Queue.getMetrics`` (bullmq-py ships it, unregistered)."""


@dataclass(frozen=True, slots=True)
class QueueOverview:
    """One queue now."""

    name: str
    counts: JobCounts
    paused: bool
    workers: list[WorkerHealth]
    """Every worker with a heartbeat on the queue, dead ones included (``alive`` false)."""
    completed_per_minute: list[int]
    """Jobs completed in each of the last 60 minutes, oldest first (BullMQ's metrics)."""
    failed_per_minute: list[int]
    """Jobs failed in each of the last 60 minutes, oldest first."""
    metrics_recorded: bool
    """Whether workers record BullMQ's metrics for this queue (else the rates are unknown)."""

    @property
    def alive(self) -> list[WorkerHealth]:
        """The workers alive on the queue."""
        return [worker for worker in self.workers if worker["alive"]]

    @property
    def completed_last_hour(self) -> int:
        """Jobs completed in the last hour (metrics), or by the live workers since they
        started (their heartbeats) when metrics are not recorded."""
        if self.metrics_recorded:
            return sum(self.completed_per_minute)
        return sum(worker["completed"] for worker in self.alive)

    @property
    def failed_last_hour(self) -> int:
        """Attempts failed in the last hour (as :attr:`completed_last_hour`)."""
        if self.metrics_recorded:
            return sum(self.failed_per_minute)
        return sum(worker["failed"] for worker in self.alive)

    @property
    def failure_rate(self) -> float | None:
        """Failed / finished over the period; ``None`` when nothing finished."""
        finished = self.completed_last_hour + self.failed_last_hour
        return self.failed_last_hour / finished if finished else None

    def to_json(self) -> dict[str, Any]:
        """The overview of this queue as JSON data (``status --json``)."""
        return {
            "name": self.name,
            "paused": self.paused,
            "counts": self.counts.by_state(),
            "metricsRecorded": self.metrics_recorded,
            "completedLastHour": self.completed_last_hour,
            "failedLastHour": self.failed_last_hour,
            "failureRate": self.failure_rate,
            "completedPerMinute": self.completed_per_minute,
            "failedPerMinute": self.failed_per_minute,
            "workersAlive": len(self.alive),
            "workers": [
                {
                    "id": worker["id"],
                    "host": worker["host"],
                    "pid": worker["pid"],
                    "concurrency": worker["concurrency"],
                    "state": worker["state"],
                    "alive": worker["alive"],
                    "active": worker["active"],
                    "completed": worker["completed"],
                    "failed": worker["failed"],
                    "secondsSinceHeartbeat": worker["secondsSinceHeartbeat"],
                }
                for worker in self.workers
            ],
        }


@dataclass(frozen=True, slots=True)
class Overview:
    """Every queue of the definitions, read at ``checked_at`` (ms since the epoch)."""

    queues: list[QueueOverview]
    checked_at: int

    def to_json(self) -> dict[str, Any]:
        """JSON data for scripts."""
        return {"checkedAt": self.checked_at, "queues": [q.to_json() for q in self.queues]}


async def read_overview(runtime: Runtime, queues: Sequence[str]) -> Overview:
    """The overview of ``queues``: one pipelined round trip, plus one ``HGETALL`` per queue."""
    now = int(time.time() * 1000)
    contexts = [runtime.context(name) for name in queues]
    replies: dict[str, list[Any]] = {}
    by_client: dict[int, list[QueueContext]] = {}
    for ctx in contexts:  # one pipeline per connection (one in all, unless on a Redis Cluster)
        by_client.setdefault(id(ctx.client), []).append(ctx)
    for group in by_client.values():
        replies.update(await _read_counts(group))
    health = await read_health(contexts)
    overviews: list[QueueOverview] = []
    for ctx in contexts:
        counts, paused, completed, failed = replies[ctx.name]
        overviews.append(
            QueueOverview(
                name=ctx.name,
                counts=job_counts(counts),
                paused=bool(paused),
                workers=health["queues"][ctx.name]["workers"],
                completed_per_minute=per_minute(completed, now),
                failed_per_minute=per_minute(failed, now),
                metrics_recorded=_recorded(completed) or _recorded(failed),
            )
        )
    return Overview(queues=overviews, checked_at=now)


async def _read_counts(contexts: list[QueueContext]) -> dict[str, list[Any]]:
    """Queue → its counts, paused flag and completed and failed metrics, in one round trip."""
    client = contexts[0].client
    metrics_script = client.register_script(_GET_METRICS.read_text())
    async with client.pipeline(transaction=False) as pipe:
        for ctx in contexts:
            await ctx.commands["getCounts"](
                keys=[ctx.keys[""]], args=list(COUNTED_STATES), client=pipe
            )
            pipe.hexists(ctx.keys["meta"], "paused")
            for state in ("completed", "failed"):
                metrics = ctx.keys[""] + "metrics:" + state
                await metrics_script(
                    keys=[metrics, metrics + ":data"], args=[0, MINUTES - 1], client=pipe
                )
        replies: list[Any] = await pipe.execute()
    return {ctx.name: replies[index * 4 : index * 4 + 4] for index, ctx in enumerate(contexts)}


def _recorded(reply: Any) -> bool:
    meta: list[Any] = reply[0]
    return meta[1] is not None


def per_minute(reply: Any, now_ms: int) -> list[int]:
    """The last hour's counts per minute, oldest first, from a ``getMetrics`` reply.

    BullMQ's finishing script counts into ``count`` and, on the first finish of
    a later minute, pushes the count of the minute of ``prevTS`` to the head of
    the data list, then a zero for each minute without finishes: the list's
    item ``i`` is minute ``minute(prevTS) - 1 - i``, and ``count - prevCount``
    finished in the minute of ``prevTS``.
    """
    meta: list[Any] = reply[0]
    data: list[Any] = reply[1]
    series = [0] * MINUTES
    if meta[1] is None:
        return series
    count, prev_ts, prev_count = (int(text_reply(v)) if v is not None else 0 for v in meta)
    newest = now_ms // 60_000
    latest = prev_ts // 60_000
    points = {latest: count - prev_count}
    for index, value in enumerate(data):
        points[latest - 1 - index] = int(text_reply(value))
    for minute, value in points.items():
        position = MINUTES - 1 - (newest - minute)
        if 0 <= position < MINUTES:
            series[position] = value
    return series
