"""A typed handle on one BullMQ queue: inspect and manage it, wait for its jobs."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

from pydantic import JsonValue

from ..definitions.options import JobOptions
from ..errors import BullMQCodegenError
from ..payloads import decode_json
from .events import JobCompleted, JobEvent, JobFailed, JobWatch, Subscription
from .queue_context import QueueContext

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..definitions.config import QueueConfig
    from .control import CleanableState, ListableState
    from .registry import Runtime
    from .scheduler_view import SchedulerInfo

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
    def config(self) -> QueueConfig:
        """The definitions this queue belongs to."""
        return self._runtime.config

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

    async def wait_for_result(self, job_id: str, *, timeout: float = 30.0) -> str:
        """The return value of job ``job_id`` as stored (JSON text, ``null`` for none) once it
        completes.

        Served by the queue's one event reader of this loop, however many wait.
        A job that finished already, or finished and was removed on completion
        (found in the queue's recent events), resolves at once. Raises
        :class:`JobFailedError` when it fails for good (a failed attempt that
        will be retried is not an outcome), :class:`JobNotFoundError` when there
        is no such job or it is removed before it finishes, and ``TimeoutError``
        after ``timeout`` seconds (the job itself is left alone).
        """
        watch = self._watch(job_id, keep_all=False)
        try:
            async with asyncio.timeout(timeout):
                if not await watch.start():
                    raise self._not_found(job_id)
                final = await watch.final()
        except TimeoutError:
            raise TimeoutError(
                f"job {job_id} of queue {self.name!r} did not finish in {timeout} s"
            ) from None
        finally:
            watch.close()
        if isinstance(final, JobCompleted):
            return final.return_json
        if isinstance(final, JobFailed):
            raise JobFailedError(self.name, job_id, final.reason, final.attempts_made)
        raise JobNotFoundError(
            f"job {job_id} of queue {self.name!r} was removed before it finished"
        )

    async def wait_until_finished(self, job_id: str, *, timeout: float = 30.0) -> JsonValue:
        """The return value of job ``job_id``, decoded, once it completes (see
        :meth:`wait_for_result`, whose errors it raises)."""
        return decode_json(await self.wait_for_result(job_id, timeout=timeout))

    async def job_events(self, job_id: str) -> AsyncGenerator[JobEvent, None]:
        """Job ``job_id``'s progress and state changes from now on, ending after the final one.

        ``async for event in queue.job_events(id):`` yields :class:`JobProgressed`,
        :class:`JobActive`, :class:`JobWaiting`, :class:`JobDelayed`,
        :class:`JobStalled`... and last :class:`JobCompleted`, :class:`JobFailed`
        (for good) or :class:`JobRemoved`; a job that finished already yields
        just its outcome. Raises :class:`JobNotFoundError` when there is no such
        job. ``aclose()`` stops early. Served by the queue's one event reader.
        """
        watch = self._watch(job_id, keep_all=True)
        try:
            if not await watch.start():
                raise self._not_found(job_id)
            while (event := await watch.next()) is not None:
                yield event
        finally:
            watch.close()

    def subscribe(self, listener: object) -> Subscription:
        """Hand every completed, failed, progress and stalled event of this queue to
        ``listener`` until the subscription closes.

        ``listener`` has some of ``on_completed(JobCompleted)``,
        ``on_failed(JobFailed)``, ``on_progress(JobProgressed)`` and
        ``on_stalled(JobStalled)``, plain or async; each event carries the job
        id and name (``None`` once the job is gone). Exceptions it raises are
        logged. Use ``async with queue.subscribe(listener):`` (it returns once
        events are followed), or keep the subscription and ``await
        subscription.close()``. Call it on the event loop that runs it.
        """
        context = self.context()
        return Subscription(
            self._runtime.events(self.name), context.pipeline, context.keys[""], listener
        )

    def _watch(self, job_id: str, *, keep_all: bool) -> JobWatch:
        context = self.context()
        return JobWatch(
            self._runtime.events(self.name),
            context.pipeline,
            job_id=job_id,
            job_key=context.job_key(job_id),
            keep_all=keep_all,
        )

    def _not_found(self, job_id: str) -> JobNotFoundError:
        return JobNotFoundError(
            f"no job {job_id} in queue {self.name!r}: never added, or removed and its "
            "events trimmed"
        )

    def __repr__(self) -> str:
        return f"QueueHandle({self.name!r})"

    async def schedulers(self) -> list[SchedulerInfo]:
        """The queue's job schedulers (ours and any other's), soonest first, as Node's
        ``getJobSchedulers`` shows them."""
        from .scheduler_view import list_schedulers

        return await list_schedulers(self.context())

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
