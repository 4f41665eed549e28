"""What the queue and job pages show: a page of a queue's jobs, and one job read with its types."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, get_args

from redis.exceptions import ResponseError

from ..runtime.control import ListableState, list_jobs
from ..runtime.queue import JobSnapshot, JobState, QueueHandle
from .fields import TypedValue, pretty_json, read_payload, read_result, summary
from .kinds import JobKinds

if TYPE_CHECKING:
    from ..runtime.registry import Runtime

__all__ = [
    "STATES",
    "JobRow",
    "JobView",
    "QueuePage",
    "UnreadableJobError",
    "find_job",
    "moment",
    "read_job",
    "read_queue_page",
]

STATES: tuple[ListableState, ...] = get_args(ListableState)
"""The states a queue page lists."""
LOG_LINES = 200
"""The last log lines a job page shows."""


def moment(ms: int | None) -> str:
    """Milliseconds since the epoch as ``2026-11-29 17:55:16.123 UTC`` (``—`` for none)."""
    if not ms:
        return "—"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


@dataclass(frozen=True, slots=True)
class JobRow:
    """One line of a queue page."""

    id: str
    name: str
    added: str
    summary: str
    attempts: int
    failed_reason: str
    known: bool
    """Whether the job name is one of the definitions."""


@dataclass(frozen=True, slots=True)
class QueuePage:
    """A page of one state's jobs, newest first."""

    queue: str
    state: ListableState
    rows: list[JobRow]
    start: int
    count: int
    total: int
    """How many jobs the state holds."""

    @property
    def previous_start(self) -> int | None:
        """Where the previous page starts (``None`` on the first)."""
        return max(self.start - self.count, 0) if self.start else None

    @property
    def next_start(self) -> int | None:
        """Where the next page starts (``None`` on the last)."""
        return self.start + self.count if self.start + self.count < self.total else None


def _row(snapshot: JobSnapshot, kinds: JobKinds, queue: str) -> JobRow:
    reason = (snapshot.failed_reason or "").splitlines()
    return JobRow(
        id=snapshot.id,
        name=snapshot.name,
        added=moment(snapshot.timestamp),
        summary=summary(snapshot.data_json),
        attempts=snapshot.attempts_made,
        failed_reason=reason[0] if reason else "",
        known=kinds.of(queue, snapshot.name) is not None,
    )


async def read_queue_page(
    runtime: Runtime,
    kinds: JobKinds,
    queue: str,
    state: ListableState,
    *,
    start: int,
    count: int,
    total: int,
) -> QueuePage:
    """The jobs of ``queue`` in ``state`` from position ``start``, newest first."""
    try:
        snapshots = await list_jobs(runtime.context(queue), state, start=start, count=count)
    except (ValueError, TypeError) as error:
        text = (
            f"A {state} job of queue {queue} is not stored as BullMQ stores jobs "
            f"({_why(error)}), so this page cannot be listed; open the job by its id to remove it"
        )
        raise UnreadableJobError(text, queue=queue, job_id=None) from error
    return QueuePage(
        queue=queue,
        state=state,
        rows=[_row(snapshot, kinds, queue) for snapshot in snapshots],
        start=start,
        count=count,
        total=total,
    )


@dataclass(frozen=True, slots=True)
class JobView:
    """One job as the job page shows it."""

    queue: str
    snapshot: JobSnapshot
    state: JobState
    known: bool
    """Whether its name is one of the definitions (else nothing is typed)."""
    payload: TypedValue
    result: TypedValue | None
    """The return value read as the result type, once completed."""
    options: str
    """The job's options as indented JSON."""
    logs: list[str]
    log_count: int
    timestamps: list[tuple[str, str]]
    """(what, when) for added, processed, finished, and delayed until."""

    @property
    def stale(self) -> bool:
        """Whether the stored payload no longer validates against today's schema."""
        return self.payload.error is not None


class UnreadableJobError(Exception):
    """A job hash in a form BullMQ never stores (``opts`` that is not JSON, a timestamp that is
    not a number): another writer's, which the runtime cannot read."""

    def __init__(self, text: str, *, queue: str, job_id: str | None) -> None:
        super().__init__(text)
        self.queue = queue
        self.job_id = job_id
        """The job, when known (a job page); ``None`` for a queue page."""


def _why(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


async def find_job(runtime: Runtime, queue: str, job_id: str) -> JobSnapshot | None:
    """Job ``job_id`` of ``queue`` as stored, or ``None`` when there is none: an id that names
    another key of the queue (``events``, ``id``, a job's ``logs``, the ``meta`` hash, which
    has neither the name nor the timestamp every job has) is no job either."""
    try:
        snapshot = await QueueHandle(runtime, queue).get_job(job_id)
    except ResponseError as error:
        if str(error).startswith("WRONGTYPE"):
            return None
        raise
    except (ValueError, TypeError) as error:
        text = f"Job {job_id} of queue {queue} is not stored as BullMQ stores jobs ({_why(error)})"
        raise UnreadableJobError(text, queue=queue, job_id=job_id) from error
    if snapshot is None or (not snapshot.name and not snapshot.timestamp):
        return None
    return snapshot


async def read_job(runtime: Runtime, kinds: JobKinds, queue: str, job_id: str) -> JobView | None:
    """Job ``job_id`` of ``queue`` with its payload and result typed; ``None`` when there is
    none."""
    handle = QueueHandle(runtime, queue)
    snapshot = await find_job(runtime, queue, job_id)
    if snapshot is None:
        return None
    state = await handle.get_job_state(job_id)
    client = runtime.context(queue).client
    logs_key = runtime.context(queue).job_key(job_id) + ":logs"
    async with client.pipeline(transaction=False) as pipe:
        pipe.lrange(logs_key, -LOG_LINES, -1)
        pipe.llen(logs_key)
        logs, log_count = await pipe.execute()
    kind = kinds.of(queue, snapshot.name)
    payload = (
        read_payload(kind.schema, snapshot.data_json)
        if kind is not None
        else read_payload(None, snapshot.data_json)
    )
    result = None
    if snapshot.return_json is not None:
        result = (
            read_result(kind.result, snapshot.return_json)
            if kind is not None
            else TypedValue("", [], pretty_json(snapshot.return_value), None)
        )
    delay = int(snapshot.opts.get("delay") or 0)
    timestamps = [
        ("added", moment(snapshot.timestamp)),
        ("processed", moment(snapshot.processed_on)),
        ("finished", moment(snapshot.finished_on)),
    ]
    if delay:
        timestamps.append(("delayed until", moment(snapshot.timestamp + delay)))
    return JobView(
        queue=queue,
        snapshot=snapshot,
        state=state,
        known=kind is not None,
        payload=payload,
        result=result,
        options=json.dumps(
            snapshot.opts, indent=2, sort_keys=True, default=str, ensure_ascii=False
        ),
        logs=[str(line) for line in logs],
        log_count=int(log_count),
        timestamps=timestamps,
    )
