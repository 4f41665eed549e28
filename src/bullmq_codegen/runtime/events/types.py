"""The events of a queue's event stream, typed.

BullMQ's scripts append an entry to ``<prefix>:<queue>:events`` at every state
change (``XADD ... event completed jobId 7 returnvalue ...``); Node's
``QueueEvents`` reads the same stream. Each entry about a job becomes one of
the dataclasses here; entries about the queue as a whole (``drained``,
``paused``...) and the ones no caller follows (``added``, ``deduplicated``)
become nothing.

A failure appears in the stream only when it is final: an attempt that will
be retried moves the job back to ``waiting`` (:class:`JobWaiting`, ``prev``
``active``) or to ``delayed`` (:class:`JobDelayed`), and only the last one
writes ``failed`` (followed by ``retries-exhausted`` when the attempts ran out).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import JsonValue

from ...payloads import decode_json

__all__ = [
    "FinalEvent",
    "JobActive",
    "JobCompleted",
    "JobDelayed",
    "JobEvent",
    "JobFailed",
    "JobProgressed",
    "JobRemoved",
    "JobStalled",
    "JobWaiting",
    "JobWaitingChildren",
    "decode_json",
    "parse_entry",
]


@dataclass(frozen=True, slots=True)
class JobWaiting:
    """The job is waiting to be taken (added, retried, promoted or moved back after a stall)."""

    job_id: str
    name: str | None
    """The job name, when known (see :class:`JobCompleted`)."""
    prev: str | None
    """The state it came from (``active`` when an attempt will be retried), when BullMQ says."""


@dataclass(frozen=True, slots=True)
class JobActive:
    """A worker took the job."""

    job_id: str
    name: str | None
    prev: str | None


@dataclass(frozen=True, slots=True)
class JobDelayed:
    """The job waits until ``until_ms`` (added with a delay, or an attempt backing off)."""

    job_id: str
    name: str | None
    until_ms: int
    """When it becomes due, in milliseconds since the epoch (BullMQ's ``delay`` field)."""


@dataclass(frozen=True, slots=True)
class JobWaitingChildren:
    """The job waits for its children (a flow's parent)."""

    job_id: str
    name: str | None


@dataclass(frozen=True, slots=True)
class JobProgressed:
    """The processor reported progress."""

    job_id: str
    name: str | None
    data_json: str
    """The progress as stored: JSON text."""

    @property
    def data(self) -> JsonValue:
        """The progress, decoded."""
        return decode_json(self.data_json)


@dataclass(frozen=True, slots=True)
class JobStalled:
    """The job's worker lost its lock; the job went back to waiting (or fails if it stalled
    too often)."""

    job_id: str
    name: str | None


@dataclass(frozen=True, slots=True)
class JobCompleted:
    """The job completed: final."""

    job_id: str
    name: str | None
    """The job name: from the job's hash when the stream entry lacks it, ``None`` when the
    job is gone (removed on completion) or for a waiter, which does not look it up."""
    return_json: str
    """The processor's result as stored: JSON text (``null`` when it returned nothing)."""

    @property
    def return_value(self) -> JsonValue:
        """The result, decoded."""
        return decode_json(self.return_json)


@dataclass(frozen=True, slots=True)
class JobFailed:
    """The job failed for good: final (retried attempts do not appear as failures)."""

    job_id: str
    name: str | None
    reason: str
    """Its failed reason (the error message of the last attempt)."""
    attempts_made: int | None
    """Attempts made, the failing one included; ``None`` only when the job was removed on
    failure before its attempts were used up (the stream does not carry the count then)."""


@dataclass(frozen=True, slots=True)
class JobRemoved:
    """The job was removed before it finished: final."""

    job_id: str
    name: str | None
    prev: str | None


JobEvent = (
    JobWaiting
    | JobActive
    | JobDelayed
    | JobWaitingChildren
    | JobProgressed
    | JobStalled
    | JobCompleted
    | JobFailed
    | JobRemoved
)
"""Any event about one job."""

FinalEvent = JobCompleted | JobFailed | JobRemoved
"""An event after which the job has no more events."""


def parse_entry(fields: dict[str, str], attempts: int | None = None) -> JobEvent | None:
    """The event of one stream entry's fields; ``None`` for entries not about one job's life.

    ``attempts`` is the ``attemptsMade`` of a ``retries-exhausted`` entry written
    with a ``failed`` one, which the failed entry itself lacks.
    """
    job_id = fields.get("jobId")
    if job_id is None:
        return None
    name = fields.get("name")
    prev = fields.get("prev")
    match fields.get("event"):
        case "completed":
            return JobCompleted(job_id, name, fields.get("returnvalue") or "null")
        case "failed":
            return JobFailed(job_id, name, fields.get("failedReason", ""), attempts)
        case "progress":
            return JobProgressed(job_id, name, fields.get("data", "null"))
        case "active":
            return JobActive(job_id, name, prev)
        case "waiting":
            return JobWaiting(job_id, name, prev)
        case "delayed":
            return JobDelayed(job_id, name, int(fields.get("delay") or 0))
        case "waiting-children":
            return JobWaitingChildren(job_id, name)
        case "stalled":
            return JobStalled(job_id, name)
        case "removed":
            return JobRemoved(job_id, name, prev)
        case _:
            return None
