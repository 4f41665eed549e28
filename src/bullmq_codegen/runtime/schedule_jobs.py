"""The jobs a job scheduler adds: their options, and the next one when a worker takes one.

When a worker takes a scheduler's job (its hash has ``rjk``),
:func:`schedule_next_iteration` adds the scheduler's next job
(``updateJobScheduler``, with the arguments Node's worker passes), whoever
created the scheduler. :mod:`.schedules` upserts the declared schedulers with
the same options.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from typing import Any, cast

import msgpack
from bullmq.job import optsEncodeMap

from ..definitions.schedules import cron_next
from ..errors import BullMQCodegenError
from .queue_context import QueueContext
from .resp import pack

__all__ = [
    "ADD_KEYS",
    "ScheduleError",
    "encoded_opts",
    "finished",
    "first_millis",
    "next_job_opts",
    "schedule_next_iteration",
]

ADD_KEYS = (
    "repeat",
    "delayed",
    "wait",
    "paused",
    "meta",
    "prioritized",
    "marker",
    "id",
    "events",
    "pc",
    "active",
)
"""The keys of ``addJobScheduler``; ``updateJobScheduler`` takes the first ten."""
# A legacy repeatable job's key: name:id:endDate:tz:<cron with spaces | every ms>.
_LEGACY_KEY = re.compile(r"[^:]*:[^:]*:\d*:[^:]*:(?:.* .*|\d+)", re.DOTALL)


class ScheduleError(BullMQCodegenError):
    """A job scheduler could not be written to Redis; the message names it."""


async def schedule_next_iteration(
    ctx: QueueContext, job_id: str, fields: Mapping[str, str]
) -> str | None:
    """Add the next job of the scheduler that added job ``job_id`` (just moved to active).

    ``fields`` is the job's hash. Returns the next job's id, or ``None`` when
    there is none (the limit or end date is reached, another worker added it,
    the scheduler was removed). Raises when the job names a legacy repeatable
    job (not supported by BullMQ 6), its repeat options are unusable, or Redis
    fails.
    """
    scheduler_id = fields.get("rjk")
    if not scheduler_id:
        return None
    if _LEGACY_KEY.fullmatch(scheduler_id) and not await ctx.pipeline.execute(
        pack("HEXISTS", f"{ctx.keys['repeat']}:{scheduler_id}", "ic")
    ):
        raise ScheduleError(
            f"job {job_id!r} comes from legacy repeatable job {scheduler_id!r}, which BullMQ 6 "
            "no longer schedules: migrate it to a job scheduler"
        )
    opts = _as_job_opts(cast("dict[str, Any]", json.loads(fields.get("opts") or "{}")))
    repeat = cast("dict[str, Any]", opts.get("repeat") or {})
    if bool(repeat.get("every")) == bool(repeat.get("pattern")):
        raise ScheduleError(
            f"job {job_id!r} of job scheduler {scheduler_id!r} has repeat options {repeat!r}: "
            "they need exactly one of every or pattern"
        )
    count = int(repeat.get("count") or 0) + 1
    now = int(time.time() * 1000)
    if finished(repeat, count, now):
        return None
    now = max(now, int(opts.get("prevMillis") or 0))
    every = repeat.get("every")
    offset = repeat.get("offset") if every else None
    next_millis = first_millis(repeat, now)
    if next_millis is None and not every:
        return None
    job_opts = next_job_opts(opts, repeat, scheduler_id, next_millis, count, offset)
    result: object = await ctx.commands["updateJobScheduler"](
        keys=[
            *(ctx.keys[key] for key in ADD_KEYS[:10]),
            ctx.job_key(job_id),
            ctx.keys["active"],
        ],
        args=[
            "" if next_millis is None else next_millis,
            scheduler_id,
            fields.get("data") or "{}",
            msgpack.packb(encoded_opts(job_opts), use_bin_type=True),
            int(time.time() * 1000),
            ctx.keys[""],
            job_id,
        ],
    )
    return result if isinstance(result, str) and result else None


def finished(repeat: Mapping[str, Any], count: int, now: int) -> bool:
    """Whether iteration ``count`` is past the scheduler's ``limit`` or ``endDate``."""
    limit = repeat.get("limit")
    end = int(repeat.get("endDate") or 0)
    return (limit is not None and count > int(limit)) or (end > 0 and now > end)


def first_millis(repeat: Mapping[str, Any], now: int) -> int | None:
    """A cron scheduler's next run from ``now`` (BullMQ's default strategy); ``None`` for every."""
    pattern = repeat.get("pattern")
    if not pattern:
        return None
    if repeat.get("immediately"):
        return int(time.time() * 1000)
    start = int(repeat.get("startDate") or 0)
    found = cron_next(str(pattern), max(now, start), repeat.get("tz"))
    end = int(repeat.get("endDate") or 0)
    if found is None or (end > 0 and found > end):
        return None
    return max(found, now)


def next_job_opts(
    opts: Mapping[str, Any],
    repeat: Mapping[str, Any],
    scheduler_id: str,
    next_millis: int | None,
    count: int,
    offset: int | None,
) -> dict[str, Any]:
    """The options of a scheduler's next job, as Node's ``getNextJobOpts`` makes them.

    For ``every``, the job id, delay and ``prevMillis`` are the script's to compute.
    """
    now = int(time.time() * 1000)
    merged = {**opts, "timestamp": now, "repeatJobKey": scheduler_id}
    if next_millis is not None:
        merged.update(
            jobId=f"repeat:{scheduler_id}:{next_millis}",
            delay=max(next_millis - now, 0),
            prevMillis=next_millis,
        )
    else:
        merged.pop("prevMillis", None)
    kept = {key: value for key, value in repeat.items() if key != "immediately"}
    kept.update(
        offset=offset,
        count=count,
        startDate=repeat.get("startDate") or None,
        endDate=repeat.get("endDate") or None,
    )
    merged["repeat"] = {key: value for key, value in kept.items() if value is not None}
    return merged


def _as_job_opts(stored: Mapping[str, Any]) -> dict[str, Any]:
    """A taken job's stored options as Node's ``Job`` holds them: ``attempts`` defaulted,
    ``repeatJobKey`` apart, a backoff in ms made ``fixed``."""
    opts = {"attempts": 0, **stored}
    opts.pop("repeatJobKey", None)
    backoff = opts.pop("backoff", None)
    if isinstance(backoff, int | float) and not isinstance(backoff, bool):
        opts["backoff"] = {"type": "fixed", "delay": backoff}
    elif backoff:
        opts["backoff"] = backoff
    return opts


def encoded_opts(opts: Mapping[str, Any]) -> dict[str, Any]:
    """Job options with bullmq's short keys (Node's ``optsAsJSON``); short keys stay."""
    return {optsEncodeMap.get(key, key): value for key, value in opts.items() if value is not None}
