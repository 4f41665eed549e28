"""What jobs a queue still has to run, read from BullMQ's keys in one atomic snapshot.

A queue is drained when it has no job waiting, paused, prioritized, active or
waiting for its children, and no delayed job that is due or that is the retry
of a failed attempt. Delayed jobs due later (a job added with a long ``delay``,
a job scheduler's next run) are not waited for: they are counted apart.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..runtime.queue_context import QueueContext

__all__ = ["QueueLeftover", "describe_leftovers", "read_leftovers"]

_SCORE_PER_MS = 0x1000
"""BullMQ scores a delayed job ``due timestamp (ms) * 0x1000 + a counter``."""
_SHOWN = 3
"""Job ids named per state in a description."""
_LATER_CHECKED = 1000
"""Delayed jobs due later inspected for retries, per queue and round."""


@dataclass(frozen=True, slots=True)
class QueueLeftover:
    """One queue's jobs that still have to run, at one moment."""

    queue: str
    waiting: int
    paused: int
    prioritized: int
    active: int
    waiting_children: int
    delayed_due: int
    """Delayed jobs due by now (or by the drain's ``delayed_within``)."""
    retries: int
    """Delayed jobs due later that retry a failed attempt (they are waited for)."""
    delayed_later: int
    """Other delayed jobs due later: not waited for."""
    is_paused: bool
    rate_limited_ms: int
    """How long the queue's rate limiter still holds jobs back (0 when it does not)."""

    @property
    def pending(self) -> int:
        """Jobs the workers still have to run before the queue is drained."""
        return (
            self.waiting
            + self.paused
            + self.prioritized
            + self.active
            + self.waiting_children
            + self.delayed_due
            + self.retries
        )


def _ceiling_score(due_by_ms: int) -> int:
    return (due_by_ms + 1) * _SCORE_PER_MS - 1


async def read_leftovers(
    contexts: Sequence[QueueContext], *, due_by_ms: int | None = None
) -> list[QueueLeftover]:
    """What each queue still holds, read in one ``MULTI`` (so a job moving from one queue
    to another is seen in exactly one); delayed jobs due by ``due_by_ms`` (now by
    default) count as due."""
    if not contexts:
        return []
    ceiling = _ceiling_score(max(due_by_ms or 0, int(time.time() * 1000)))
    client = contexts[0].client
    pipe: Any = client.pipeline(transaction=True)
    for ctx in contexts:
        keys = ctx.keys
        pipe.llen(keys["wait"])
        pipe.llen(keys["paused"])
        pipe.zcard(keys["prioritized"])
        pipe.llen(keys["active"])
        pipe.zcard(keys["waiting-children"])
        pipe.zcount(keys["delayed"], 0, ceiling)
        pipe.zrangebyscore(keys["delayed"], f"({ceiling}", "+inf", start=0, num=_LATER_CHECKED)
        pipe.zcard(keys["delayed"])
        pipe.hexists(keys["meta"], "paused")
        pipe.pttl(keys["limiter"])
    replies: list[Any] = await pipe.execute()
    found: list[QueueLeftover] = []
    for index, ctx in enumerate(contexts):
        (
            waiting,
            paused,
            prioritized,
            active,
            children,
            due,
            later_ids,
            delayed,
            is_paused,
            ttl,
        ) = replies[index * 10 : index * 10 + 10]
        retries = await _count_retries(ctx, later_ids)
        found.append(
            QueueLeftover(
                queue=ctx.name,
                waiting=int(waiting),
                paused=int(paused),
                prioritized=int(prioritized),
                active=int(active),
                waiting_children=int(children),
                delayed_due=int(due),
                retries=retries,
                delayed_later=int(delayed) - int(due) - retries,
                is_paused=bool(is_paused),
                rate_limited_ms=max(int(ttl), 0),
            )
        )
    return found


async def _count_retries(ctx: QueueContext, job_ids: list[str]) -> int:
    """How many of these delayed jobs wait to retry a failed attempt (``atm`` > 0)."""
    if not job_ids:
        return 0
    pipe: Any = ctx.client.pipeline(transaction=False)
    for job_id in job_ids:
        pipe.hget(ctx.job_key(job_id), "atm")
    made: list[str | None] = await pipe.execute()
    return sum(1 for value in made if value is not None and int(value) > 0)


async def describe_leftovers(
    contexts: Sequence[QueueContext], leftovers: Sequence[QueueLeftover]
) -> str:
    """One line per queue that is not drained: counts by state, with some job ids and names."""
    lines: list[str] = []
    for ctx, left in zip(contexts, leftovers, strict=True):
        if left.pending == 0:
            continue
        parts: list[str] = []
        if left.is_paused:
            parts.append("the queue is paused")
        for state, count, key, sorted_set in (
            ("waiting", left.waiting, "wait", False),
            ("paused", left.paused, "paused", False),
            ("prioritized", left.prioritized, "prioritized", True),
            ("active", left.active, "active", False),
            ("waiting for children", left.waiting_children, "waiting-children", True),
        ):
            if count:
                parts.append(f"{count} {state} ({await _some_jobs(ctx, key, sorted_set)})")
        if left.delayed_due or left.retries:
            kinds = [f"{left.delayed_due} due"] if left.delayed_due else []
            kinds += [f"{left.retries} to retry a failed attempt"] if left.retries else []
            jobs = await _some_jobs(ctx, "delayed", True)
            parts.append(f"{left.delayed_due + left.retries} delayed: {', '.join(kinds)} ({jobs})")
        if left.rate_limited_ms:
            parts.append(f"rate-limited for {left.rate_limited_ms / 1000:.1f} s more")
        lines.append(f"  queue {left.queue!r}: " + ", ".join(parts))
    return "\n".join(lines)


async def _some_jobs(ctx: QueueContext, key: str, sorted_set: bool) -> str:
    client: Any = ctx.client
    full = ctx.keys[key]
    ids: list[str] = await (
        client.zrange(full, 0, _SHOWN - 1) if sorted_set else client.lrange(full, -_SHOWN, -1)
    )
    names = [await client.hget(ctx.job_key(job_id), "name") for job_id in ids]
    shown = ", ".join(f"job {job_id} {name!r}" for job_id, name in zip(ids, names, strict=True))
    return shown if ids else "none listed"
