"""BullMQ job schedulers: the definitions' schedules upserted in Redis when workers start.

On bullmq's own Lua scripts with the arguments Node BullMQ passes them, so
Node reads and drives the same state (each scheduler's next job is added by
the worker that takes its current one: :mod:`.schedule_jobs`):

* when workers start, :func:`sync_schedules` upserts the schedules their
  definitions declare (``addJobScheduler``, as Node's
  ``queue.upsertJobScheduler``) and removes those of their job names that were
  declared before but no longer are (``removeJobScheduler``; the ids declared
  are kept in a set beside the queue's keys, so schedulers that a Node service
  created are never removed, whatever their job name). A scheduler already in
  Redis as declared, with its next job pending, is left alone: restarting (ten
  processes at once, or one a hundred times) neither moves its next run nor
  restarts its ``limit`` count.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import msgpack

from ..definitions.config import QueueConfig
from ..definitions.schedules import SCHEDULER_JOB_OPTIONS, schedule_payload_json
from .job_options import name_defaults
from .queue_context import QueueContext
from .resp import hash_reply, pack
from .schedule_jobs import (
    ADD_KEYS,
    ScheduleError,
    encoded_opts,
    finished,
    first_millis,
    next_job_opts,
)

__all__ = [
    "REGISTRY_SUFFIX",
    "DeclaredSchedule",
    "ScheduleError",
    "ScheduleSync",
    "declared_schedules",
    "remove_moved_schedules",
    "sync_schedules",
]

_ID_COLLISION = -10
_REPEAT_KEYS = ("every", "pattern", "tz", "limit", "startDate", "endDate")
_NUMERIC = ("every", "limit", "startDate", "endDate")
_UPSERT_TRIES = 3
REGISTRY_SUFFIX = "bcg-schedulers"
"""``<prefix>:<queue>:bcg-schedulers``: the ids of the schedulers declared in definitions.

Only those are removed once no longer declared; schedulers someone else created
(a Node service, by hand) are never touched, even for job names served here.
"""


@dataclass(frozen=True, slots=True)
class DeclaredSchedule:
    """One declared schedule, as the job scheduler it becomes."""

    id: str
    """The scheduler id (unique in its queue)."""
    name: str
    """The name of the jobs it adds (the worker declaring it)."""
    repeat: Mapping[str, Any]
    """BullMQ repeat options: ``every`` or ``pattern`` (with ``tz``), ``limit``, dates,
    ``immediately``."""
    data: str
    """The JSON data of every job (``{}`` without payload)."""
    opts: Mapping[str, Any]
    """The job options of every job (queue < worker < schedule), public keys."""


@dataclass(frozen=True, slots=True)
class ScheduleSync:
    """What :func:`sync_schedules` did to the job schedulers of one queue."""

    written: tuple[str, ...]
    """Scheduler ids created, changed or revived."""
    unchanged: tuple[str, ...]
    """Scheduler ids already in Redis as declared."""
    removed: tuple[str, ...]
    """Scheduler ids of these job names no longer declared, removed."""


def declared_schedules(
    config: QueueConfig, queue: str, names: Collection[str]
) -> list[DeclaredSchedule]:
    """The schedules the workers ``names`` of ``queue`` declare."""
    found: list[DeclaredSchedule] = []
    for name in names:
        worker = config.worker(queue, name)
        defaults = {
            key: value
            for key, value in name_defaults(config, queue, name).items()
            if key not in SCHEDULER_JOB_OPTIONS  # set per job by the scheduler itself
        }
        for scheduler_id, schedule in worker.get("schedules", {}).items():
            found.append(
                DeclaredSchedule(
                    id=scheduler_id,
                    name=name,
                    repeat={
                        k: v for k, v in schedule.items() if k in (*_REPEAT_KEYS, "immediately")
                    },
                    data=schedule_payload_json(schedule, worker.get("schema")),
                    opts={**defaults, **schedule.get("jobOptions", {})},
                )
            )
    return found


async def sync_schedules(
    ctx: QueueContext, declared: Sequence[DeclaredSchedule], *, moved_away: Collection[str] = ()
) -> ScheduleSync:
    """Upsert ``declared`` in ``ctx``'s queue; remove the schedulers that were declared
    before (see :data:`REGISTRY_SUFFIX`) and are not any more, also those of a worker
    removed from the definitions, but not those of the job names ``moved_away`` to
    another queue: :func:`remove_moved_schedules` removes them once that queue has
    its own, so the schedule never stops in between.

    Schedulers nobody declared in definitions (a Node service's) are never
    touched. Raises :class:`ScheduleError` naming the scheduler that could not
    be written.
    """
    written: list[str] = []
    unchanged: list[str] = []
    for schedule in declared:
        try:
            changed = await _upsert(ctx, schedule)
        except Exception as error:
            raise ScheduleError(
                f"cannot upsert job scheduler {schedule.id!r} of job {schedule.name!r} "
                f"in queue {ctx.name!r}: {error}"
            ) from error
        (written if changed else unchanged).append(schedule.id)
    registry = ctx.keys[""] + REGISTRY_SUFFIX
    if declared:
        await ctx.pipeline.execute(pack("SADD", registry, *(schedule.id for schedule in declared)))
    keep = {schedule.id for schedule in declared}
    stale = {
        scheduler_id: name
        for scheduler_id, name in (await _registered(ctx, registry)).items()
        if scheduler_id not in keep and name not in moved_away
    }
    removed = await _remove(ctx, registry, stale, "no longer declared")
    return ScheduleSync(tuple(written), tuple(unchanged), removed)


async def remove_moved_schedules(ctx: QueueContext, names: Collection[str]) -> tuple[str, ...]:
    """Remove the schedulers declared in ``ctx``'s queue for job names that moved away (their
    new queue has just upserted its own); the ids removed."""
    registry = ctx.keys[""] + REGISTRY_SUFFIX
    moved = {
        scheduler_id: name
        for scheduler_id, name in (await _registered(ctx, registry)).items()
        if name in names
    }
    return await _remove(ctx, registry, moved, "its job name moved to another queue")


async def _remove(
    ctx: QueueContext, registry: str, schedulers: dict[str, str | None], why: str
) -> tuple[str, ...]:
    """Remove ``schedulers`` (id → job name, ``None`` when already gone) and forget them."""
    removed: list[str] = []
    for scheduler_id, name in schedulers.items():
        if name is not None:
            try:
                await ctx.commands["removeJobScheduler"](
                    keys=[ctx.keys["repeat"], ctx.keys["delayed"], ctx.keys["events"]],
                    args=[scheduler_id, ctx.keys[""]],
                )
            except Exception as error:
                raise ScheduleError(
                    f"cannot remove job scheduler {scheduler_id!r} of job {name!r} "
                    f"in queue {ctx.name!r} ({why}): {error}"
                ) from error
            removed.append(scheduler_id)
        await ctx.pipeline.execute(pack("SREM", registry, scheduler_id))
    return tuple(removed)


# -- upsert ---------------------------------------------------------------------------------


async def _upsert(ctx: QueueContext, schedule: DeclaredSchedule) -> bool:
    """Write ``schedule`` unless Redis has it as declared and alive; whether it was written."""
    for attempt in range(_UPSERT_TRIES):
        if await _in_place(ctx, schedule):
            return False
        now = int(time.time() * 1000)
        if finished(schedule.repeat, 1, now):
            return False
        next_millis = first_millis(schedule.repeat, now)
        if next_millis is None and not schedule.repeat.get("every"):
            return False  # a pattern that matches no date before its endDate
        result: object = await ctx.commands["addJobScheduler"](
            keys=[ctx.keys[key] for key in ADD_KEYS],
            args=[
                "" if next_millis is None else max(next_millis, now),
                msgpack.packb(_scheduler_opts(schedule), use_bin_type=True),
                schedule.id,
                schedule.data,
                msgpack.packb(encoded_opts(schedule.opts), use_bin_type=True),
                msgpack.packb(
                    encoded_opts(
                        next_job_opts(
                            schedule.opts, schedule.repeat, schedule.id, next_millis, 1, None
                        )
                    ),
                    use_bin_type=True,
                ),
                int(time.time() * 1000),
                ctx.keys[""],
                "",
            ],
        )
        if result == _ID_COLLISION and attempt + 1 < _UPSERT_TRIES:
            continue  # another process added this run's job meanwhile: look again
        if isinstance(result, int):
            raise ctx.backend.scripts.finishedErrors({"code": result, "command": "addJobScheduler"})
        return True
    raise AssertionError("unreachable")


async def _in_place(ctx: QueueContext, schedule: DeclaredSchedule) -> bool:
    """Whether Redis holds ``schedule`` as declared, with its next job pending (or its limit hit)."""
    pairs, score = await ctx.pipeline.execute_all(
        [
            pack("HGETALL", f"{ctx.keys['repeat']}:{schedule.id}"),
            pack("ZSCORE", ctx.keys["repeat"], schedule.id),
        ]
    )
    stored = hash_reply(pairs)
    if not stored or score is None or not _same(stored, schedule):
        return False
    limit: int | None = schedule.repeat.get("limit")
    if limit is not None and int(stored.get("ic") or 0) >= limit:
        return True  # used up: declaring it again does not restart it
    job_key = ctx.job_key(f"repeat:{schedule.id}:{int(float(score))}")
    name, finished = await ctx.pipeline.execute(pack("HMGET", job_key, "name", "finishedOn"))
    return name is not None and finished is None


def _same(stored: Mapping[str, str], schedule: DeclaredSchedule) -> bool:
    if stored.get("name") != schedule.name:
        return False
    for key in _REPEAT_KEYS:
        value = stored.get(key)
        declared = schedule.repeat.get(key)
        if (int(float(value)) if key in _NUMERIC and value else value) != declared:
            return False
    opts: object = json.loads(stored.get("opts") or "{}")
    data: object = json.loads(stored.get("data") or "{}")
    declared_opts: object = json.loads(json.dumps(encoded_opts(schedule.opts)))
    declared_data: object = json.loads(schedule.data)
    return opts == declared_opts and data == declared_data


def _scheduler_opts(schedule: DeclaredSchedule) -> dict[str, Any]:
    """The scheduler's own fields, as Node's ``upsertJobScheduler`` passes them."""
    opts: dict[str, Any] = {"name": schedule.name}
    for key in ("startDate", "endDate", "tz", "pattern", "every", "limit"):
        if schedule.repeat.get(key) is not None:
            opts[key] = schedule.repeat[key]
    return opts


# -- shared with the next iteration ---------------------------------------------------------


async def _registered(ctx: QueueContext, registry: str) -> dict[str, str | None]:
    """Scheduler id → job name (``None`` when gone) of the schedulers declared here before."""
    ids = cast("list[str]", await ctx.pipeline.execute(pack("SMEMBERS", registry)))
    if not ids:
        return {}
    rows = cast(
        "list[list[str | None]]",
        await ctx.pipeline.execute_all(
            [
                pack("HMGET", f"{ctx.keys['repeat']}:{scheduler_id}", "name", "ic")
                for scheduler_id in sorted(ids)
            ]
        ),
    )
    return {
        scheduler_id: name if ic is not None else None
        for scheduler_id, (name, ic) in zip(sorted(ids), rows, strict=True)
    }
