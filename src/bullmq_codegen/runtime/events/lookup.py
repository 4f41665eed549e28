"""What Redis already says about a job: its hash, or its queue's recent events.

Used before waiting (a job may have finished already, or have been removed on
completion) and to fill in what a stream entry lacks (the job name, the
attempts of a failed job). Every read goes over the loop's auto-pipelined
connection, so a thousand waiters checking at once share one connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..resp import hash_reply, pack
from .types import JobCompleted, JobFailed

if TYPE_CHECKING:
    from ..autopipeline import AutoPipeline

__all__ = ["JobRecord", "attempts_and_name", "final_from_history", "read_job"]

HISTORY = 10_000
"""Entries searched for a job that finished and was removed before the wait began
(BullMQ keeps about this many in a queue's stream)."""

_PAGE = 1000


@dataclass(frozen=True, slots=True)
class JobRecord:
    """The fields of a job's hash that say whether and how it finished."""

    name: str
    final: JobCompleted | JobFailed | None
    """How it finished, or ``None`` while it has not."""


async def read_job(pipeline: AutoPipeline, job_key: str, job_id: str) -> JobRecord | None:
    """Job ``job_id`` as its hash says now; ``None`` when there is no such hash."""
    reply: Any = await pipeline.execute(
        pack("HMGET", job_key, "name", "finishedOn", "returnvalue", "failedReason", "atm")
    )
    name, finished_on, returned, reason, attempts = reply
    if name is None:
        return None
    final: JobCompleted | JobFailed | None = None
    if finished_on:
        # a completed job has a return value; a failed reason may remain from a retried attempt
        if returned is not None:
            final = JobCompleted(job_id, name, returned or "null")
        else:
            final = JobFailed(job_id, name, reason or "", int(attempts or 0))
    return JobRecord(name, final)


async def attempts_and_name(pipeline: AutoPipeline, job_key: str) -> tuple[int | None, str | None]:
    """A job's ``attemptsMade`` and name from its hash (``None`` for what is gone)."""
    reply: Any = await pipeline.execute(pack("HMGET", job_key, "atm", "name"))
    attempts, name = reply
    return (int(attempts) if attempts else None), name


async def final_from_history(
    pipeline: AutoPipeline, stream: str, job_id: str
) -> JobCompleted | JobFailed | None:
    """How job ``job_id`` finished, from the newest :data:`HISTORY` entries of ``stream``."""
    end = "+"
    newer: dict[str, str] = {}
    searched = 0
    while searched < HISTORY:
        page: Any = await pipeline.execute(pack("XREVRANGE", stream, end, "-", "COUNT", _PAGE))
        if not page:
            return None
        for entry_id, flat in page:
            fields = hash_reply(flat)
            if fields.get("jobId") == job_id:
                if fields.get("event") == "completed":
                    return JobCompleted(job_id, None, fields.get("returnvalue") or "null")
                if fields.get("event") == "failed":
                    attempts = None
                    if newer.get("event") == "retries-exhausted" and newer.get("jobId") == job_id:
                        attempts = int(newer.get("attemptsMade") or 0) or None
                    return JobFailed(job_id, None, fields.get("failedReason", ""), attempts)
            newer = fields
            end = f"({entry_id}"
        searched += len(page)
        if len(page) < _PAGE:
            return None
    return None
