"""Handles on jobs: the one a producer returns, and one for a job known by its id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Generic

from pydantic import JsonValue, TypeAdapter, ValidationError
from typing_extensions import TypeVar

from ..definitions.options import JobOptions
from ..errors import BullMQCodegenError
from .events import FinalEvent, JobEvent, JobProgressed
from .queue import JobSnapshot, JobState, QueueHandle
from .results import ResultType

__all__ = ["EnqueuedJob", "InvalidResultError", "JobRef"]

P_co = TypeVar("P_co", covariant=True)
R = TypeVar("R", default=Any)
G = TypeVar("G", default=float)


class InvalidResultError(BullMQCodegenError):
    """A job's stored result is not of its job name's result type: another job name's job
    (a ``get_<worker>_job`` given another name's id), or a result an older deploy or a
    Node worker stored. ``error`` is Pydantic's."""

    def __init__(
        self,
        queue: str,
        job_id: str,
        name: str,
        stored: JobSnapshot | None,
        error: ValidationError,
    ) -> None:
        self.queue = queue
        self.job_id = job_id
        self.error = error
        if stored is not None and stored.name != name:
            why = f"it is a {stored.name!r} job, not a {name!r} one"
        else:
            why = f"it is not a {name!r} result"
        super().__init__(
            f"job {job_id} of queue {queue!r}: its result cannot be read: {why}; {error}"
        )


class JobRef(Generic[R, G]):
    """A job of one name, known by its id: its state, progress ``G`` and result ``R``, typed.

    The generated ``get_<worker>_job(job_id)`` makes one, for an API that
    returned a job id and is asked for its result later.
    """

    __slots__ = ("_id", "_name", "_progress", "_queue", "_result")

    def __init__(
        self,
        *,
        queue: QueueHandle,
        id: str,
        name: str,
        result: ResultType[R],
        progress: TypeAdapter[G],
    ) -> None:
        self._queue = queue
        self._id = id
        self._name = name
        self._result = result
        self._progress = progress

    @property
    def id(self) -> str:
        """The job id (the existing job's id when ``jobId`` or deduplication matched one)."""
        return self._id

    @property
    def name(self) -> str:
        """The job name (``afterSignUpEmail``)."""
        return self._name

    @property
    def queue(self) -> QueueHandle:
        """The queue the job is in."""
        return self._queue

    async def state(self) -> JobState:
        """Where the job is now."""
        return await self._queue.get_job_state(self._id)

    async def snapshot(self) -> JobSnapshot | None:
        """The job as stored now (``None`` once removed)."""
        return await self._queue.get_job(self._id)

    async def result(self, *, timeout: float = 30.0) -> R:
        """The processor's result, validated as its return type, once the job completes.

        Raises :class:`~bullmq_codegen.runtime.JobFailedError` (with the failed
        reason and attempts made) when the job fails for good, ``TimeoutError``
        after ``timeout`` seconds (the job is left alone), and
        :class:`~bullmq_codegen.runtime.JobNotFoundError` when there is no such job.
        """
        text = await self._queue.wait_for_result(self._id, timeout=timeout)
        try:
            return self._result.validate_json(text)
        except ValidationError as error:
            stored = await self._queue.get_job(self._id)
            raise InvalidResultError(
                self._queue.name, self._id, self._name, stored, error
            ) from None

    async def wait_until_finished(self, *, timeout: float = 30.0) -> JsonValue:
        """The processor's result as stored JSON (not validated) once the job completes."""
        return await self._queue.wait_until_finished(self._id, timeout=timeout)

    async def progress(self) -> AsyncIterator[G]:
        """Each progress value the processor reports from now on, typed, until the job ends.

        ``async for done in job.progress(): ...`` then ``await job.result()``
        for the outcome. Served by the queue's one event reader.
        """
        events = self._queue.job_events(self._id)
        try:
            async for event in events:
                if isinstance(event, JobProgressed):
                    yield self._progress.validate_json(event.data_json)
        finally:
            await events.aclose()

    async def events(self) -> AsyncIterator[JobEvent]:
        """The job's state changes and progress from now on (``JobActive``, ``JobProgressed``,
        ``JobDelayed``...), ending with its final event (``JobCompleted``, ``JobFailed``,
        ``JobRemoved``); progress is the stored JSON here, :meth:`progress` types it."""
        events = self._queue.job_events(self._id)
        try:
            async for event in events:
                yield event
                if isinstance(event, FinalEvent):
                    return
        finally:
            await events.aclose()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(queue={self._queue.name!r}, name={self._name!r}, id={self._id!r})"


class EnqueuedJob(JobRef[R, G], Generic[P_co, R, G]):
    """A job a producer added: what was sent, whether it was a duplicate, and its result."""

    __slots__ = ("_duplicate", "_options", "_payload")

    def __init__(
        self,
        *,
        queue: QueueHandle,
        id: str,
        name: str,
        payload: P_co,
        options: JobOptions,
        result: ResultType[R],
        progress: TypeAdapter[G],
        duplicate: bool = False,
    ) -> None:
        super().__init__(queue=queue, id=id, name=name, result=result, progress=progress)
        self._payload = payload
        self._options = options
        self._duplicate = duplicate

    @property
    def payload(self) -> P_co:
        """The payload as sent (validated); ``None`` for a job without schema."""
        return self._payload

    @property
    def options(self) -> JobOptions:
        """The job options sent: the queue's, then the job name's defaults, then the call's."""
        return self._options

    @property
    def duplicate(self) -> bool:
        """Whether the job already existed: its ``jobId`` or deduplication id was taken, so
        nothing was added and :attr:`id` is the existing job's."""
        return self._duplicate
