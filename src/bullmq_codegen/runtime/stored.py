"""Jobs as stored, typed: the payload and result of a job name read back with its types.

``Producer.jobs(...)`` (the generated ``list_<worker>_jobs``) pages through a
queue's jobs of some states and keeps those of its job name, each as a
:class:`StoredJob` whose ``payload`` is validated by the worker's schema. A job
added by an older deploy whose data no longer validates is kept, flagged with
Pydantic's error in ``payload_error``, rather than hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic

from pydantic import BaseModel, ValidationError
from typing_extensions import TypeVar

from .control import ListableState
from .queue import JobSnapshot, QueueHandle
from .results import ResultType

__all__ = ["MAX_SCANNED", "JobPage", "StoredJob", "page_of_name", "parse_with"]

P_co = TypeVar("P_co", covariant=True)
R = TypeVar("R", default=Any)

_SCAN = 200
"""Jobs read per listing call while looking for one job name's jobs."""
MAX_SCANNED = 10_000
"""Jobs of other names a page reads at most before returning (with fewer jobs than asked,
and ``next_start`` to read on): a page costs a bounded time however crowded the queue."""


@dataclass(frozen=True, slots=True)
class StoredJob(Generic[P_co, R]):
    """One job of a job name as stored: BullMQ's fields, the payload and result typed."""

    snapshot: JobSnapshot
    """Every stored field (id, options, timestamps, attempts, stack traces, progress...)."""
    payload: P_co | None
    """The data validated by the worker's schema (``None`` without one, or when invalid)."""
    payload_error: ValidationError | None
    """Why the stored data no longer validates against the schema (an older deploy's job)."""
    result: R | None
    """The result validated as the processor's return type, once completed."""
    result_error: ValidationError | None = None
    """Why the stored result does not validate as today's result type (an older deploy's)."""

    @property
    def id(self) -> str:
        """The job id."""
        return self.snapshot.id


@dataclass(frozen=True, slots=True)
class JobPage(Generic[P_co, R]):
    """A page of one job name's jobs, and where the next page starts."""

    jobs: list[StoredJob[P_co, R]]
    """Up to ``count`` jobs; fewer when :data:`MAX_SCANNED` jobs of other names were read."""
    next_start: int | None
    """The queue position to pass as ``start`` for the next page; ``None`` at the end."""


async def page_of_name(
    queue: QueueHandle,
    name: str,
    state: ListableState,
    *,
    start: int,
    count: int,
    asc: bool,
    parse: Callable[[str], P_co],
    result: ResultType[R],
) -> JobPage[P_co, R]:
    """Up to ``count`` jobs named ``name`` in ``state``, from queue position ``start`` on."""
    if count < 1 or start < 0:
        raise ValueError(f"count must be 1 or more and start 0 or more, not {count}, {start}")
    found: list[StoredJob[P_co, R]] = []
    position = start
    while True:
        if position - start >= MAX_SCANNED:
            return JobPage(found, position)
        window = max(count, _SCAN)
        batch = await queue.jobs(state, start=position, count=window, asc=asc)
        for index, snapshot in enumerate(batch):
            if snapshot.name == name:
                found.append(_typed(snapshot, parse, result))
                if len(found) == count:
                    return JobPage(found, position + index + 1)
        if len(batch) < window:
            return JobPage(found, None)
        position += window


def _typed(
    snapshot: JobSnapshot, parse: Callable[[str], P_co], result: ResultType[R]
) -> StoredJob[P_co, R]:
    payload: P_co | None = None
    error: ValidationError | None = None
    try:
        payload = parse(snapshot.data_json)
    except ValidationError as invalid:
        error = invalid
    value: R | None = None
    result_error: ValidationError | None = None
    if snapshot.return_json is not None:
        try:
            value = result.validate_json(snapshot.return_json)
        except ValidationError as invalid:
            result_error = invalid
    return StoredJob(snapshot, payload, error, value, result_error)


def parse_with(schema: type[BaseModel] | None) -> Callable[[str], Any]:
    """How a stored job's data becomes its payload: validated by ``schema`` (``None`` without)."""
    if schema is None:
        return lambda _text: None
    return schema.model_validate_json
