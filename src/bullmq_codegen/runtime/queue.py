"""A typed handle on one BullMQ queue: inspect and manage it, wait for its jobs."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

from pydantic import JsonValue

from ..definitions.options import JobOptions
from ..errors import BullMQCodegenError
from .queue_context import QueueContext

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .control import CleanableState, ListableState
    from .registry import Runtime

__all__ = [
    "JobCounts",
    "JobFailedError",
    "JobNotFoundError",
    "JobSnapshot",
    "JobState",
    "QueueHandle",
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

_COUNTED = (
    "wait",
    "active",
    "delayed",
    "prioritized",
    "completed",
    "failed",
    "paused",
    "waiting-children",
)


_HISTORY = 10_000
"""Events searched for a job that finished and was removed before the wait began
(BullMQ keeps about this many in a queue's stream)."""


class JobNotFoundError(BullMQCodegenError, KeyError):
    """No such job: never added, or removed and its events trimmed."""

    def __str__(self) -> str:
        return str(self.args[0])


class JobFailedError(BullMQCodegenError):
    """The job failed for good; ``reason`` is its failed reason."""

    def __init__(self, queue: str, job_id: str, reason: str) -> None:
        self.queue = queue
        self.job_id = job_id
        self.reason = reason
        super().__init__(f"job {job_id} of queue {queue!r} failed: {reason}")


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
    if raw is None:
        return None
    try:
        return cast("JsonValue", json.loads(raw))
    except ValueError:
        return raw


class QueueHandle:
    """One BullMQ queue of the definitions. Producers add its jobs; this inspects and manages it.

    It holds no connection: each call uses the running loop's, opened on first use.
    """

    __slots__ = ("_runtime", "name")

    def __init__(self, runtime: Runtime, name: str) -> None:
        self._runtime = runtime
        self.name = name

    @property
    def prefix(self) -> str:
        """The BullMQ key prefix (``bull`` unless the definitions set another)."""
        return self._runtime.config.prefix

    @property
    def default_job_options(self) -> JobOptions:
        """The queue's ``defaultJobOptions``, applied to every job it adds."""
        return self._runtime.config.queue(self.name).get("options", {}).get("defaultJobOptions", {})

    def context(self) -> QueueContext:
        """bullmq's view of this queue on the running event loop."""
        return self._runtime.context(self.name)

    async def counts(self) -> JobCounts:
        """How many jobs are in each state."""
        values: Any = await self.context().backend.scripts.getCounts(list(_COUNTED))
        counts = dict(zip(_COUNTED, (int(value) for value in values), strict=True))
        return JobCounts(
            waiting=counts["wait"],
            active=counts["active"],
            delayed=counts["delayed"],
            prioritized=counts["prioritized"],
            completed=counts["completed"],
            failed=counts["failed"],
            paused=counts["paused"],
            waiting_children=counts["waiting-children"],
        )

    async def get_job(self, job_id: str) -> JobSnapshot | None:
        """The job ``job_id`` as stored now, or ``None`` when there is none."""
        fields = await self.context().backend.getJobData(job_id)
        return JobSnapshot.from_hash(job_id, fields) if fields else None

    async def get_job_state(self, job_id: str) -> JobState:
        """Where job ``job_id`` is now."""
        state = await self.context().backend.getState(job_id)
        return cast("JobState", "waiting" if state == "wait" else state)

    async def pause(self) -> None:
        """Pause the queue for every worker (Node ones included); added jobs wait."""
        await self.context().backend.scripts.pause(True)

    async def resume(self) -> None:
        """Resume the queue after :meth:`pause`."""
        await self.context().backend.scripts.pause(False)

    async def is_paused(self) -> bool:
        """Whether the queue is paused."""
        context = self.context()
        return bool(await context.client.hexists(context.keys["meta"], "paused"))

    async def drain(self, *, delayed: bool = False) -> None:
        """Remove waiting (and, with ``delayed``, delayed) jobs; active and finished stay."""
        await self.context().backend.scripts.drain(delayed)

    async def obliterate(self, *, force: bool = False) -> None:
        """Remove the queue and all its jobs. The queue must be paused; ``force`` removes
        active jobs too."""
        scripts = self.context().backend.scripts
        while await scripts.obliterate(1000, force) > 0:
            pass

    async def wait_until_finished(self, job_id: str, *, timeout: float = 30.0) -> JsonValue:
        """The return value of job ``job_id`` once it completes.

        Raises :class:`JobFailedError` when it fails for good, and
        ``TimeoutError`` after ``timeout`` seconds. Works when the job is
        removed on completion too: it follows the queue's event stream.
        """
        context = self.context()
        client = context.client
        events = context.keys["events"]
        deadline = time.monotonic() + timeout
        latest: Any = await client.xrevrange(events, count=1)
        cursor: str = latest[0][0] if latest else "0-0"
        fields = await context.backend.getJobData(job_id)
        if fields and fields.get("finishedOn"):
            # a completed job has a return value; a failed reason may remain from a retried attempt
            if "returnvalue" in fields:
                return self._outcome(job_id, fields["returnvalue"], None)
            return self._outcome(job_id, None, fields.get("failedReason", ""))
        if not fields:  # removed on completion already, or never added
            history: Any = await client.xrevrange(events, cursor, "-", count=_HISTORY)
            for _entry_id, entry in history:
                if entry.get("jobId") == job_id and entry.get("event") in ("completed", "failed"):
                    if entry["event"] == "completed":
                        return self._outcome(job_id, entry.get("returnvalue"), None)
                    return self._outcome(job_id, None, entry.get("failedReason", ""))
            raise JobNotFoundError(
                f"no job {job_id} in queue {self.name!r}: never added, or removed and its "
                "events trimmed"
            )
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"job {job_id} of queue {self.name!r} did not finish in {timeout} s"
                )
            block_ms = max(1, int(min(remaining, 2.0) * 1000))
            batches: Any = await client.xread({events: cursor}, count=1000, block=block_ms)
            for _stream, entries in batches or ():
                for entry_id, entry in entries:
                    cursor = entry_id
                    if entry.get("jobId") != job_id:
                        continue
                    if entry.get("event") == "completed":
                        return self._outcome(job_id, entry.get("returnvalue"), None)
                    if entry.get("event") == "failed":
                        return self._outcome(job_id, None, entry.get("failedReason", ""))
            await asyncio.sleep(0)

    def _outcome(self, job_id: str, returned: str | None, failed: str | None) -> JsonValue:
        if failed is not None:
            raise JobFailedError(self.name, job_id, failed)
        return _json(returned)

    def __repr__(self) -> str:
        return f"QueueHandle({self.name!r})"

    async def jobs(
        self,
        states: ListableState | Sequence[ListableState],
        *,
        start: int = 0,
        count: int = 50,
        asc: bool = False,
    ) -> list[JobSnapshot]:
        """Up to ``count`` jobs of each of ``states`` from position ``start``, newest first
        unless ``asc`` (Node's ``getJobs``: with several states, a page of each)."""
        from .control import list_jobs

        return await list_jobs(self.context(), states, start=start, count=count, asc=asc)

    async def clean(self, state: CleanableState, *, grace_ms: int, limit: int = 0) -> list[str]:
        """Remove jobs of ``state`` older than ``grace_ms`` (at most ``limit``, 0: no limit);
        the removed ids (Node's ``clean``)."""
        from .control import clean

        return await clean(self.context(), state, grace_ms=grace_ms, limit=limit)

    async def retry_failed(self, *, count: int = 1000) -> int:
        """Move every failed job back to wait, ``count`` per script call (Node's
        ``retryJobs``); how many moved."""
        from .control import retry_failed

        return await retry_failed(self.context(), count=count)

    async def retry_job(self, job_id: str, *, reset_attempts: bool = False) -> None:
        """Move failed job ``job_id`` back to wait (Node's ``job.retry()``).

        Raises :class:`JobNotFoundError`, or ``JobStateError`` when it has not failed.
        """
        from .control import retry_job

        await retry_job(self.context(), job_id, reset_attempts=reset_attempts)

    async def promote_job(self, job_id: str) -> None:
        """Run delayed job ``job_id`` now (Node's ``job.promote()``).

        Raises :class:`JobNotFoundError`, or ``JobStateError`` when it is not delayed.
        """
        from .control import promote_job

        await promote_job(self.context(), job_id)

    async def promote_all(self, *, count: int = 1000) -> int:
        """Run every delayed job now, ``count`` per script call (Node's ``promoteJobs``);
        how many moved."""
        from .control import promote_all

        return await promote_all(self.context(), count=count)

    async def remove_job(self, job_id: str, *, remove_children: bool = True) -> None:
        """Remove job ``job_id`` (Node's ``remove``). Raises :class:`JobNotFoundError`, or
        ``JobLockedError`` while a worker holds it."""
        from .control import remove_job

        await remove_job(self.context(), job_id, remove_children=remove_children)
