"""Managing a queue's jobs the way Node BullMQ's ``Queue`` and ``Job`` do.

Each operation runs bullmq's own Lua script (``getJobs``, ``cleanJobsInSet``,
``moveJobsToWait``, ``reprocessJob``, ``promote``, ``removeJob``; the same
scripts Node BullMQ 6 runs) with the arguments Node passes, so the state left
in Redis is the one Node's ``getJobs``, ``clean``, ``retryJobs``,
``job.retry()``, ``job.promote()``, ``promoteJobs`` and ``remove`` leave. The
scripts' error codes become errors that name the queue, the job and the state.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any, Literal, get_args

from ..errors import BullMQCodegenError
from .queue import JobNotFoundError, JobSnapshot
from .queue_context import QueueContext
from .resp import hash_reply

__all__ = [
    "CleanableState",
    "JobControlError",
    "JobLockedError",
    "JobStateError",
    "ListableState",
    "clean",
    "list_jobs",
    "promote_all",
    "promote_job",
    "remove_job",
    "retry_failed",
    "retry_job",
]

ListableState = Literal[
    "waiting",
    "active",
    "delayed",
    "prioritized",
    "completed",
    "failed",
    "waiting-children",
    "paused",
]
"""The states :func:`list_jobs` reads (``paused``: waiting jobs of a paused queue)."""

CleanableState = Literal[
    "waiting", "active", "delayed", "prioritized", "completed", "failed", "paused"
]
"""The states :func:`clean` removes jobs from (``active`` skips jobs a worker holds)."""

_CLEAN_BATCH = 10_000
"""Jobs removed per script call, as Node's ``clean`` does (bounds each call's work)."""

_BACKFILL = 5
"""How many more ranges ``getJobs`` reads to fill a page whose ids lost their job (Node's)."""

_NO_LIMIT = 1.7976931348623157e308
"""The timestamp Node passes to promote every delayed job (``Number.MAX_VALUE``)."""


class JobControlError(BullMQCodegenError):
    """An operation on one job that BullMQ refused; ``queue`` and ``job_id`` name it."""

    def __init__(self, queue: str, job_id: str, message: str) -> None:
        self.queue = queue
        self.job_id = job_id
        super().__init__(message)


class JobStateError(JobControlError):
    """The job exists but is not in the state the operation needs (``expected``); ``state``
    is where it is."""

    def __init__(self, queue: str, job_id: str, *, operation: str, expected: str, state: str):
        self.expected = expected
        self.state = state
        super().__init__(
            queue,
            job_id,
            f"cannot {operation} job {job_id} of queue {queue!r}: it is {state}, not {expected}",
        )


class JobLockedError(JobControlError):
    """The job is held by a worker (active, its lock alive), so it cannot be removed."""

    def __init__(self, queue: str, job_id: str) -> None:
        super().__init__(
            queue,
            job_id,
            f"cannot remove job {job_id} of queue {queue!r}: a worker holds its lock "
            "(it is active); remove it once it has finished",
        )


def _states(states: str | Sequence[str], allowed: tuple[str, ...], what: str) -> list[str]:
    chosen = [states] if isinstance(states, str) else list(states)
    if not chosen:
        raise ValueError(f"{what}: name at least one state of {', '.join(allowed)}")
    wrong = [state for state in chosen if state not in allowed]
    if wrong:
        raise ValueError(
            f"{what}: unknown job state {', '.join(map(repr, wrong))}; "
            f"use one of {', '.join(allowed)}"
        )
    return list(dict.fromkeys("wait" if state == "waiting" else state for state in chosen))


def _not_found(ctx: QueueContext, job_id: str) -> JobNotFoundError:
    return JobNotFoundError(f"no job {job_id} in queue {ctx.name!r}")


async def _state(ctx: QueueContext, job_id: str) -> str:
    state = str(await ctx.backend.getState(job_id))
    return "waiting" if state == "wait" else state


async def list_jobs(
    ctx: QueueContext,
    states: ListableState | Sequence[ListableState],
    *,
    start: int = 0,
    count: int = 50,
    asc: bool = False,
) -> list[JobSnapshot]:
    """Up to ``count`` jobs of each state from position ``start``, as Node's ``getJobs``.

    Newest first unless ``asc``. With several states each gets its own page
    (Node's paging), listed state after state; a job is listed once.
    """
    types = _states(states, get_args(ListableState), "jobs")
    if start < 0 or count < 1:
        raise ValueError(f"jobs: start must be >= 0 and count >= 1, not {start} and {count}")
    groups: Any = await ctx.commands["getJobs"](
        keys=[ctx.keys[""]],
        args=[start, start + count - 1, "1" if asc else "0", _BACKFILL, *types],
    )
    snapshots: dict[str, JobSnapshot] = {}
    for group in groups:
        for job_id, flat in group:
            if job_id not in snapshots:
                snapshots[job_id] = JobSnapshot.from_hash(job_id, hash_reply(flat))
    return list(snapshots.values())


async def clean(
    ctx: QueueContext, state: CleanableState, *, grace_ms: int, limit: int = 0
) -> list[str]:
    """Remove jobs of ``state`` older than ``grace_ms`` (at most ``limit``; 0: all); their ids.

    As Node's ``Queue.clean``: finished jobs by when they finished, others by
    when they were added; active jobs a worker holds are kept.
    """
    (key,) = _states(state, get_args(CleanableState), "clean")
    if grace_ms < 0 or limit < 0:
        raise ValueError(f"clean: grace_ms and limit must be >= 0, not {grace_ms} and {limit}")
    timestamp = int(time.time() * 1000) - grace_ms
    per_call = min(_CLEAN_BATCH, limit) if limit else _CLEAN_BATCH
    removed: list[str] = []
    while not limit or len(removed) < limit:
        batch = min(per_call, limit - len(removed)) if limit else per_call
        ids: Any = await ctx.commands["cleanJobsInSet"](
            keys=[ctx.keys[""] + key, ctx.keys["events"], ctx.keys["repeat"]],
            args=[ctx.keys[""], timestamp, batch, key],
        )
        removed.extend(str(job_id) for job_id in ids)
        if len(ids) < batch:
            break
    return removed


async def _move_all_to_wait(ctx: QueueContext, state: str, count: int, timestamp: float) -> int:
    if count < 1:
        raise ValueError(f"count must be >= 1 (jobs moved per script call), not {count}")
    keys = [
        ctx.keys[""],
        *(ctx.keys[name] for name in ("events", state, "wait", "paused", "meta", "active")),
        ctx.keys["marker"],
    ]
    moved = 0
    while True:
        async with ctx.client.pipeline(transaction=True) as pipe:
            pipe.zcount(ctx.keys[state], 0, timestamp)
            await ctx.commands["moveJobsToWait"](
                keys=keys, args=[count, timestamp, state], client=pipe
            )
            found, more = await pipe.execute()
        moved += min(int(found), count)
        if not more:
            return moved


async def retry_failed(ctx: QueueContext, *, count: int = 1000) -> int:
    """Move every job that has failed by now back to wait (Node's ``retryJobs``); how many.

    ``count`` jobs move per script call. Attempts are not reset: a job that
    used all its attempts runs once more.
    """
    return await _move_all_to_wait(ctx, "failed", count, int(time.time() * 1000))


async def promote_all(ctx: QueueContext, *, count: int = 1000) -> int:
    """Move every delayed job to wait now (Node's ``promoteJobs``); how many."""
    return await _move_all_to_wait(ctx, "delayed", count, _NO_LIMIT)


async def retry_job(ctx: QueueContext, job_id: str, *, reset_attempts: bool = False) -> None:
    """Move failed job ``job_id`` back to wait (Node's ``job.retry()``).

    ``reset_attempts`` starts its attempt count (and started count) afresh.
    """
    opts_json = await ctx.client.hget(ctx.job_key(job_id), "opts")
    lifo = bool(json.loads(opts_json).get("lifo")) if opts_json else False
    keys = [
        ctx.job_key(job_id),
        *(ctx.keys[name] for name in ("events", "failed", "wait", "meta", "active")),
        *(ctx.keys[name] for name in ("marker", "prioritized", "pc")),
    ]
    flag = "1" if reset_attempts else "0"
    args = [job_id, "RPUSH" if lifo else "LPUSH", "failedReason", "failed", flag, flag]
    result = await ctx.commands["reprocessJob"](keys=keys, args=args)
    if result == -1:
        raise _not_found(ctx, job_id)
    if result != 1:
        state = await _state(ctx, job_id)
        raise JobStateError(ctx.name, job_id, operation="retry", expected="failed", state=state)


async def promote_job(ctx: QueueContext, job_id: str) -> None:
    """Move delayed job ``job_id`` to wait now (Node's ``job.promote()``)."""
    names = ("delayed", "wait", "paused", "meta", "prioritized", "active", "pc", "events")
    result = await ctx.commands["promote"](
        keys=[*(ctx.keys[name] for name in names), ctx.keys["marker"]],
        args=[ctx.keys[""], job_id],
    )
    if result != 0:
        state = await _state(ctx, job_id)
        if state == "unknown":
            raise _not_found(ctx, job_id)
        raise JobStateError(ctx.name, job_id, operation="promote", expected="delayed", state=state)


async def remove_job(ctx: QueueContext, job_id: str, *, remove_children: bool = True) -> None:
    """Remove job ``job_id`` and its data (Node's ``queue.remove``), its children too unless
    ``remove_children`` is false.

    Refused for a job a worker holds (:class:`JobLockedError`) and for the
    next run of a job scheduler (remove the scheduler instead).
    """
    if not await ctx.client.exists(ctx.job_key(job_id)):
        raise _not_found(ctx, job_id)
    result = await ctx.commands["removeJob"](
        keys=[ctx.job_key(job_id), ctx.keys["repeat"]],
        args=[job_id, 1 if remove_children else 0, ctx.keys[""]],
    )
    if result == 0:
        raise JobLockedError(ctx.name, job_id)
    if result == -8:
        raise JobControlError(
            ctx.name,
            job_id,
            f"cannot remove job {job_id} of queue {ctx.name!r}: it is the next run of a job "
            "scheduler; remove the scheduler instead",
        )
