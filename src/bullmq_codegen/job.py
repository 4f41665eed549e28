"""The job a processor receives: BullMQ's fields plus the validated payload."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, Protocol, cast, overload

from pydantic import BaseModel, JsonValue, TypeAdapter
from typing_extensions import TypeVar

from .payloads import decode_json

if TYPE_CHECKING:
    from .definitions.options import JobOptions

__all__ = ["Job", "JobControls"]

P_co = TypeVar("P_co", covariant=True)
G = TypeVar("G", default=float)
"""The progress type: a number unless the worker declares a ``progress`` model."""
T = TypeVar("T")


class JobControls(Protocol):
    """What a running job can ask of its worker (implemented by the runtime)."""

    async def update_progress(self, progress: JsonValue) -> None:
        """Store the job's progress and emit BullMQ's ``progress`` event."""
        ...

    async def log(self, row: str) -> int:
        """Append a row to the job's log; return the number of rows."""
        ...

    async def children_values(self) -> dict[str, str]:
        """The JSON results of this job's completed children, by child job key."""
        ...

    async def children_failures(self) -> dict[str, str]:
        """The failed reasons of children that failed with ``ignoreDependencyOnFailure``."""
        ...


class Job(Generic[P_co, G]):
    """A job being processed.

    ``payload`` is the job's data validated by the worker's schema (``None`` for
    a worker without one); ``data`` is the JSON as stored in Redis. The
    camelCase aliases (``attemptsMade``) match BullMQ's Job for code ported
    from Node. ``G`` is the type of the progress it reports: a number, or the
    worker's ``progress`` model (``Job[Payload, Progress]``).
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

    async def update_progress(self, progress: G) -> None:
        """Store progress (a number, or the worker's progress model) and emit a ``progress`` event."""
        value: JsonValue
        if isinstance(progress, BaseModel):
            value = progress.model_dump(mode="json", by_alias=True)
        else:
            value = progress  # type: ignore[assignment]
        await self._controls.update_progress(value)

    @overload
    async def children_results(self, result_type: type[T]) -> dict[str, T]: ...

    @overload
    async def children_results(self, result_type: TypeAdapter[T]) -> dict[str, T]: ...

    async def children_results(self, result_type: Any) -> dict[str, Any]:
        """The results of this flow job's completed children, validated as ``result_type``.

        Keys are the children's job keys (``bull:queue:id``), as BullMQ's
        ``getChildrenValues`` returns them.
        """
        given: object = result_type
        adapter: TypeAdapter[Any] = (
            cast("TypeAdapter[Any]", given)  # type: ignore[redundant-cast]  # pyright needs it
            if isinstance(given, TypeAdapter)
            else TypeAdapter(result_type)
        )
        raw = await self._controls.children_values()
        return {key: adapter.validate_json(value) for key, value in raw.items()}

    async def children_failures(self) -> dict[str, str]:
        """The failed reasons of this flow job's children that failed for good with
        ``ignoreDependencyOnFailure``, by child job key (Node's ``getIgnoredChildrenFailures``)."""
        return await self._controls.children_failures()

    async def children_values(self) -> dict[str, JsonValue]:
        """The stored JSON results of this flow job's completed children, by child job key."""
        raw = await self._controls.children_values()
        return {key: decode_json(value) for key, value in raw.items()}

    async def log(self, row: str) -> int:
        """Append ``row`` to the job's log (``keepLogs`` bounds it); return the row count."""
        return await self._controls.log(row)

    def __repr__(self) -> str:
        return f"Job(queue={self._queue_name!r}, name={self._name!r}, id={self._id!r})"
