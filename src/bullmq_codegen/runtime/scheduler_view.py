"""A queue's job schedulers as Node's ``queue.getJobSchedulers()`` shows them, typed.

Read-only: what the runner upserted from the definitions, and any scheduler a
Node service (or anyone) created on the same queue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import JsonValue

from ..definitions.options import JobOptions
from .queue_context import QueueContext
from .resp import hash_reply, pack, text_reply
from .wire import decode_opts

__all__ = ["SchedulerInfo", "list_schedulers"]


@dataclass(frozen=True, slots=True)
class SchedulerInfo:
    """One job scheduler of a queue."""

    id: str
    """The scheduler id (the key of ``schedules`` in the definitions)."""
    name: str | None
    """The job name of the jobs it adds."""
    every: int | None
    """Milliseconds between jobs, for an ``every`` scheduler."""
    pattern: str | None
    """The cron pattern, for a ``pattern`` scheduler."""
    tz: str | None
    """The time zone the pattern is read in."""
    next_millis: int | None
    """When its next job is due, in milliseconds since the epoch."""
    iteration_count: int | None
    """Jobs it has added so far."""
    limit: int | None
    data: JsonValue = None
    """The data of every job it adds (the payload's JSON)."""
    opts: JobOptions = field(default_factory=lambda: JobOptions())
    """The options of every job it adds."""

    @property
    def next_run(self) -> datetime | None:
        """When its next job is due, in UTC."""
        if self.next_millis is None:
            return None
        return datetime.fromtimestamp(self.next_millis / 1000, tz=UTC)


async def list_schedulers(ctx: QueueContext, *, asc: bool = True) -> list[SchedulerInfo]:
    """Every job scheduler of the queue, soonest first unless not ``asc``."""
    registry = ctx.keys["repeat"]
    command = "ZRANGE" if asc else "ZREVRANGE"
    flat: list[Any] = await ctx.pipeline.execute(pack(command, registry, 0, -1, "WITHSCORES"))
    members = [(text_reply(member), float(score)) for member, score in _pairs(flat)]
    if not members:
        return []
    replies: list[Any] = await ctx.pipeline.execute_all(
        [pack("HGETALL", f"{registry}:{member}") for member, _ in members]
    )
    records = [hash_reply(_raised(reply)) for reply in replies]
    return [
        _info(str(member), int(score), fields)
        for (member, score), fields in zip(members, records, strict=True)
        if fields
    ]


def _info(key: str, next_millis: int, fields: dict[str, str]) -> SchedulerInfo:
    opts = _json(fields.get("opts"))
    return SchedulerInfo(
        id=key,
        name=fields.get("name"),
        every=_int(fields.get("every")),
        pattern=fields.get("pattern") or None,
        tz=fields.get("tz") or None,
        next_millis=next_millis,
        iteration_count=_int(fields.get("ic")),
        limit=_int(fields.get("limit")),
        data=_json(fields.get("data")),
        opts=decode_opts(json.dumps(opts)) if isinstance(opts, dict) else {},
    )


def _raised(reply: object) -> object:
    if isinstance(reply, BaseException):
        raise reply
    return reply


def _pairs(flat: list[Any]) -> list[tuple[Any, Any]]:
    """``ZRANGE ... WITHSCORES`` as pairs: RESP3 nests them, RESP2 flattens them."""
    if flat and isinstance(flat[0], list):
        return [(pair[0], pair[1]) for pair in flat]
    return list(zip(flat[::2], flat[1::2], strict=True))


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def _json(raw: str | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw
