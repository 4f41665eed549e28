"""The handle a producer returns for the job it added."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import JsonValue

from ..definitions.options import JobOptions
from .queue import JobSnapshot, JobState, QueueHandle

__all__ = ["EnqueuedJob"]

P_co = TypeVar("P_co", covariant=True)


class EnqueuedJob(Generic[P_co]):
    """A job added to a queue: its id, what was sent, and ways to follow it."""

    __slots__ = ("_id", "_name", "_options", "_payload", "_queue")

    def __init__(
        self, *, queue: QueueHandle, id: str, name: str, payload: P_co, options: JobOptions
    ) -> None:
        self._queue = queue
        self._id = id
        self._name = name
        self._payload = payload
        self._options = options

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
        """The queue the job was added to."""
        return self._queue

    @property
    def payload(self) -> P_co:
        """The payload as sent (validated); ``None`` for a job without schema."""
        return self._payload

    @property
    def options(self) -> JobOptions:
        """The job options sent: the queue's defaults merged with the call's."""
        return self._options

    async def state(self) -> JobState:
        """Where the job is now."""
        return await self._queue.get_job_state(self._id)

    async def snapshot(self) -> JobSnapshot | None:
        """The job as stored now (``None`` once removed)."""
        return await self._queue.get_job(self._id)

    async def wait_until_finished(self, *, timeout: float = 30.0) -> JsonValue:
        """The processor's result (as stored JSON) once the job completes.

        Raises :class:`~bullmq_codegen.runtime.JobFailedError` if it fails for
        good, ``TimeoutError`` after ``timeout`` seconds.
        """
        return await self._queue.wait_until_finished(self._id, timeout=timeout)

    def __repr__(self) -> str:
        return f"EnqueuedJob(queue={self._queue.name!r}, name={self._name!r}, id={self._id!r})"
