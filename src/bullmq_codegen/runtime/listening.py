"""Typed listeners of one job name: results and progress arrive validated as their types.

``Producer.listen(...)`` (and the generated ``listen_<worker>(...)``) subscribes
to the queue's one event reader (see :mod:`.events`) and hands the callbacks
only the events of its job name, the result validated as the processor's
return type and progress as the worker's progress type.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Generic

from pydantic import TypeAdapter
from typing_extensions import TypeVar

from .events import JobCompleted, JobFailed, JobProgressed, JobStalled
from .results import ResultType

__all__ = ["Callback", "JobNameListener", "ProgressCallback", "ResultCallback"]

R = TypeVar("R", default=Any)
G = TypeVar("G", default=float)
E = TypeVar("E")

Callback = Callable[[E], Awaitable[None] | None]
"""A listener callback: plain, or async (awaited before the next event)."""
ResultCallback = Callable[[str, R], Awaitable[None] | None]
"""``on_completed(job_id, result)``: plain, or async."""
ProgressCallback = Callable[[str, G], Awaitable[None] | None]
"""``on_progress(job_id, progress)``: plain, or async."""


class JobNameListener(Generic[R, G]):
    """Hears the completed, failed, progress and stalled events of job name ``name``.

    An event whose job was already removed carries no name: it is taken as
    this name's when ``sole_name`` (the queue holds no other job name), and
    skipped otherwise.
    """

    def __init__(
        self,
        *,
        name: str,
        sole_name: bool,
        result: ResultType[R],
        progress: TypeAdapter[G],
        on_completed: ResultCallback[R] | None = None,
        on_failed: Callback[JobFailed] | None = None,
        on_progress: ProgressCallback[G] | None = None,
        on_stalled: Callback[str] | None = None,
    ) -> None:
        self._name = name
        self._sole_name = sole_name
        self._result = result
        self._progress = progress
        self._on_completed = on_completed
        self._on_failed = on_failed
        self._on_progress = on_progress
        self._on_stalled = on_stalled

    def _ours(self, name: str | None) -> bool:
        return name == self._name or (name is None and self._sole_name)

    async def on_completed(self, event: JobCompleted) -> None:
        """A job completed: hand its typed result to ``on_completed``."""
        if self._on_completed is not None and self._ours(event.name):
            await _call(
                self._on_completed(event.job_id, self._result.validate_json(event.return_json))
            )

    async def on_failed(self, event: JobFailed) -> None:
        """A job failed for good: hand the event (reason, attempts) to ``on_failed``."""
        if self._on_failed is not None and self._ours(event.name):
            await _call(self._on_failed(event))

    async def on_progress(self, event: JobProgressed) -> None:
        """A job reported progress: hand it, typed, to ``on_progress``."""
        if self._on_progress is not None and self._ours(event.name):
            await _call(
                self._on_progress(event.job_id, self._progress.validate_json(event.data_json))
            )

    async def on_stalled(self, event: JobStalled) -> None:
        """A job stalled (its worker lost its lock): hand its id to ``on_stalled``."""
        if self._on_stalled is not None and self._ours(event.name):
            await _call(self._on_stalled(event.job_id))

    def __repr__(self) -> str:
        return f"JobNameListener({self._name!r})"


async def _call(outcome: Awaitable[None] | None) -> None:
    if inspect.isawaitable(outcome):
        await outcome
