"""What a queue says about its jobs: states, counts, a job as stored, and the errors of waiting."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from pydantic import JsonValue

from ..definitions.options import JobOptions
from ..errors import BullMQCodegenError
from ..payloads import decode_json

__all__ = [
    "JobCounts",
    "JobFailedError",
    "JobNotFoundError",
    "JobSnapshot",
    "JobState",
]

JobState = Literal[
    "waiting",
    "active",
    "delayed",
    "prioritized",
    "completed",
    "failed",
    "waiting-children",
    "unknown",
]
"""Where a job is; ``unknown`` when no such job exists (never added, or removed)."""


class JobNotFoundError(BullMQCodegenError, KeyError):
    """No such job: never added, or removed and its events trimmed."""

    def __str__(self) -> str:
        return str(self.args[0])


class JobFailedError(BullMQCodegenError):
    """The job failed for good: ``reason`` is its failed reason, ``attempts_made`` the
    attempts it had (``None`` only for a job removed on failure before using them all)."""

    def __init__(
        self, queue: str, job_id: str, reason: str, attempts_made: int | None = None
    ) -> None:
        self.queue = queue
        self.job_id = job_id
        self.reason = reason
        self.attempts_made = attempts_made
        tries = f" after {attempts_made} attempt(s)" if attempts_made is not None else ""
        super().__init__(f"job {job_id} of queue {queue!r} failed{tries}: {reason}")


@dataclass(frozen=True, slots=True)
class JobCounts:
    """How many jobs a queue holds in each state."""

    waiting: int
    active: int
    delayed: int
    prioritized: int
    completed: int
    failed: int
    paused: int
    waiting_children: int

    def by_state(self) -> dict[str, int]:
        """State name (``waiting``, ``waiting-children``...) → count."""
        return {name.replace("_", "-"): value for name, value in dataclasses.asdict(self).items()}

    @property
    def pending(self) -> int:
        """Jobs not finished yet: waiting, active, delayed, prioritized, paused."""
        return self.waiting + self.active + self.delayed + self.prioritized + self.paused


@dataclass(frozen=True, slots=True)
class JobSnapshot:
    """A job as stored in Redis at one moment."""

    id: str
    name: str
    data: JsonValue
    opts: JobOptions
    timestamp: int
    attempts_made: int
    processed_on: int | None
    finished_on: int | None
    return_value: JsonValue
    failed_reason: str | None
    progress: JsonValue
    data_json: str
    """The data as stored: the JSON text a typed view validates with the job name's schema."""
    return_json: str | None
    """The return value as stored (JSON text), ``None`` until the job completes."""
    stacktrace: list[str]
    """The stack traces of failed attempts, latest last."""
    attempts_started: int
    """How many times a worker has taken the job (BullMQ's ``attemptsStarted``)."""

    @classmethod
    def from_hash(cls, job_id: str, fields: dict[str, str]) -> JobSnapshot:
        """The snapshot of a job hash's fields."""
        from .wire import decode_opts

        return cls(
            id=job_id,
            name=fields.get("name", ""),
            data=_json(fields.get("data")),
            opts=decode_opts(fields.get("opts")),
            timestamp=int(fields.get("timestamp") or 0),
            attempts_made=int(fields.get("atm") or fields.get("attemptsMade") or 0),
            processed_on=int(fields["processedOn"]) if fields.get("processedOn") else None,
            finished_on=int(fields["finishedOn"]) if fields.get("finishedOn") else None,
            return_value=_json(fields.get("returnvalue")),
            failed_reason=fields.get("failedReason"),
            progress=_json(fields.get("progress")),
            data_json=fields.get("data", "{}"),
            return_json=fields.get("returnvalue"),
            stacktrace=_stacktrace(fields.get("stacktrace")),
            attempts_started=int(fields.get("ats") or 0),
        )


def _stacktrace(raw: str | None) -> list[str]:
    value = _json(raw)
    return [str(line) for line in value] if isinstance(value, list) else []


def _json(raw: str | None) -> JsonValue:
    return None if raw is None else decode_json(raw)
