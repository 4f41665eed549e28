"""A typed handle on one BullMQ queue: inspect and manage it, wait for its jobs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterable
from typing import TYPE_CHECKING, Any, cast

from pydantic import JsonValue

from ..definitions.options import JobOptions
from ..payloads import decode_json
from .events import JobCompleted, JobEvent, JobFailed, JobWatch, Subscription
from .job_records import JobCounts, JobFailedError, JobNotFoundError, JobSnapshot, JobState
from .queue_context import QueueContext

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..definitions.config import QueueConfig
    from .control import CleanableState, ListableState
    from .registry import Runtime
    from .scheduler_view import SchedulerInfo

__all__ = [
    "COUNTED_STATES",
    "JobCounts",
    "JobFailedError",
    "JobNotFoundError",
    "JobSnapshot",
    "JobState",
    "QueueHandle",
    "job_counts",
]

COUNTED_STATES = (
    "wait",
    "active",
    "delayed",
    "prioritized",
    "completed",
    "failed",
    "paused",
    "waiting-children",
)
"""The states BullMQ's ``getCounts`` script is asked for, in the order :func:`job_counts` reads."""


def job_counts(values: Iterable[object]) -> JobCounts:
    """The counts of a ``getCounts`` reply to :data:`COUNTED_STATES`."""
    counts = dict(zip(COUNTED_STATES, (int(str(value)) for value in values), strict=True))
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
        values: Any = await self.context().backend.scripts.getCounts(list(COUNTED_STATES))
        return job_counts(values)

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
