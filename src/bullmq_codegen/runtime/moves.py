"""How many jobs of a moved job name are still in the queue it moved from.

A worker's ``movedFrom`` keeps a former queue drained; once no job of the name
is left there (waiting, delayed, prioritized, paused, active or waiting for its
children) and every producer adds to the new queue, ``movedFrom`` can go.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from .registry import Runtime

__all__ = ["MovedJobs", "moved_jobs_left"]

_LISTS = ("wait", "paused", "active")
_SORTED_SETS = ("delayed", "prioritized", "waiting-children")
_BATCH = 1_000


@dataclass(frozen=True, slots=True)
class MovedJobs:
    """The jobs of job name ``name`` left in ``former``, the queue it moved from to ``queue``."""

    name: str
    queue: str
    former: str
    left: Mapping[str, int] = field(default_factory=dict[str, int])
    """State (BullMQ's key name: ``wait``, ``delayed``...) → jobs of this name in it."""

    @property
    def total(self) -> int:
        """Every job of this name still in the former queue."""
        return sum(self.left.values())


async def moved_jobs_left(runtime: Runtime) -> list[MovedJobs]:
    """For every worker with ``movedFrom``, the jobs of its name still in the former queue.

    Reads each unfinished job's name (in batches, one round trip per batch): a
    former queue with many jobs takes a moment, which a migration step affords.
    """
    found: list[MovedJobs] = []
    config = runtime.config
    moved = config.moved_from()
    queue_of = {
        name: queue_name
        for queue_name, queue in config.queues.items()
        for name in queue["workers"]
        if name in moved
    }
    names_by_former: dict[str, list[str]] = {}
    for name, former in sorted(moved.items()):
        names_by_former.setdefault(former, []).append(name)
    for former, names in sorted(names_by_former.items()):
        counts = await _count_by_name(runtime, former, set(names))
        found.extend(
            MovedJobs(
                name=name,
                queue=queue_of[name],
                former=former,
                left={state: count for (state, job), count in counts.items() if job == name},
            )
            for name in names
        )
    return found


async def _count_by_name(
    runtime: Runtime, queue: str, names: set[str]
) -> dict[tuple[str, str], int]:
    ctx = runtime.context(queue)
    client = ctx.client
    counts: dict[tuple[str, str], int] = {}
    for state in (*_LISTS, *_SORTED_SETS):
        key = ctx.keys[state]
        start = 0
        while True:
            stop = start + _BATCH - 1
            if state in _LISTS:
                ids = cast("list[str]", await client.lrange(key, start, stop))
            else:
                ranged = client.zrange(key, start, stop)  # pyright: ignore[reportUnknownMemberType]
                ids = cast("list[str]", await ranged)
            if not ids:
                break
            pipe = client.pipeline(transaction=False)
            for job_id in ids:
                pipe.hget(ctx.job_key(job_id), "name")
            for job_name in await pipe.execute():
                if job_name in names:
                    counts[(state, job_name)] = counts.get((state, job_name), 0) + 1
            start += _BATCH
    return counts
