"""The job a processor receives: BullMQ's fields plus the validated payload."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from pydantic import JsonValue

if TYPE_CHECKING:
    from .definitions.options import JobOptions

__all__ = ["Job", "JobControls"]

P_co = TypeVar("P_co", covariant=True)


class JobControls(Protocol):
    """What a running job can ask of its worker (implemented by the runtime)."""

    async def update_progress(self, progress: JsonValue) -> None:
        """Store the job's progress and emit BullMQ's ``progress`` event."""
        ...

    async def log(self, row: str) -> int:
        """Append a row to the job's log; return the number of rows."""
        ...


class Job(Generic[P_co]):
    """A job being processed.

    ``payload`` is the job's data validated by the worker's schema (``None`` for
    a worker without one); ``data`` is the JSON as stored in Redis. The
    camelCase aliases (``attemptsMade``) match BullMQ's Job for code ported
    from Node.
    """

    __slots__ = (
        "_attempts_made",
        "_attempts_started",
        "_controls",
        "_data",
        "_id",
        "_name",
        "_opts",
        "_payload",
        "_processed_on",
        "_queue_name",
        "_timestamp",
    )

    def __init__(
        self,
        *,
        id: str,
        name: str,
        queue_name: str,
        data: JsonValue,
        payload: P_co,
        attempts_made: int,
        attempts_started: int,
        timestamp: int,
        processed_on: int | None,
        opts: JobOptions,
        controls: JobControls,
    ) -> None:
        self._id = id
        self._name = name
        self._queue_name = queue_name
        self._data = data
        self._payload = payload
        self._attempts_made = attempts_made
        self._attempts_started = attempts_started
        self._timestamp = timestamp
        self._processed_on = processed_on
        self._opts = opts
        self._controls = controls

    @property
    def id(self) -> str:
        """The job id."""
        return self._id

    @property
    def name(self) -> str:
        """The job name: the worker name it was enqueued for (``afterSignUpEmail``)."""
        return self._name

    @property
    def queue_name(self) -> str:
        """The BullMQ queue the job is in (``emailSend``)."""
        return self._queue_name

    @property
    def data(self) -> JsonValue:
        """The job's data exactly as stored (decoded JSON)."""
        return self._data

    @property
    def payload(self) -> P_co:
        """The data validated by the worker's schema; ``None`` without a schema."""
        return self._payload

    @property
    def attempts_made(self) -> int:
        """Attempts that already finished (failed) before this one."""
        return self._attempts_made

    @property
    def attemptsMade(self) -> int:
        """Same as :attr:`attempts_made`."""
        return self._attempts_made

    @property
    def attempts_started(self) -> int:
        """Attempts started, this one included (stalled attempts count too)."""
        return self._attempts_started

    @property
    def timestamp(self) -> int:
        """When the job was created, in milliseconds since the epoch."""
        return self._timestamp

    @property
    def processed_on(self) -> int | None:
        """When this attempt started, in milliseconds since the epoch."""
        return self._processed_on

    @property
    def opts(self) -> JobOptions:
        """The job's options as stored with it."""
        return self._opts

    async def update_progress(self, progress: JsonValue) -> None:
        """Store progress (a number or any JSON value) and emit a ``progress`` event."""
        await self._controls.update_progress(progress)

    async def log(self, row: str) -> int:
        """Append ``row`` to the job's log (``keepLogs`` bounds it); return the row count."""
        return await self._controls.log(row)

    def __repr__(self) -> str:
        return f"Job(queue={self._queue_name!r}, name={self._name!r}, id={self._id!r})"
