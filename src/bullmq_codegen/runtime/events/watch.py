"""Following one job: its events from the moment the watch starts, and how it ends.

A watch registers with its queue's reader *before* reading the job's hash, so
nothing falls between the two: an event written after the read reaches the
watch, and one written before it left its mark in the hash (or, for a job
removed on completion, in the stream's history, searched then).
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
from typing import TYPE_CHECKING, TypeVar

from .lookup import attempts_and_name, final_from_history, read_job
from .reader import EventReader
from .types import FinalEvent, JobCompleted, JobEvent, JobFailed, JobRemoved

if TYPE_CHECKING:
    from ..autopipeline import AutoPipeline

__all__ = ["JobWatch"]

E = TypeVar("E", bound=JobEvent)

_log = logging.getLogger("bullmq_codegen.events")

_RESYNCS: set[asyncio.Task[None]] = set()
"""Looks at jobs' hashes under way after an outage (kept so they are not collected)."""

MAX_PENDING = 10_000
"""Events a watch keeps for a consumer that does not keep up; later ones (not the final one)
are dropped, with a warning."""


class JobWatch:
    """One job's events, served by its queue's :class:`EventReader`.

    ``start()`` registers and says whether the job exists; then ``next()``
    returns its events in order and ``None`` after the final one, or
    ``final()`` waits for the final one alone. ``close()`` unregisters.
    """

    def __init__(
        self,
        reader: EventReader,
        pipeline: AutoPipeline,
        *,
        job_id: str,
        job_key: str,
        keep_all: bool,
    ) -> None:
        self.job_id = job_id
        self._reader = reader
        self._pipeline = pipeline
        self._job_key = job_key
        self._keep_all = keep_all
        self._pending: collections.deque[JobEvent] = collections.deque()
        self._final: FinalEvent | None = None
        self._final_taken = False
        self._error: BaseException | None = None
        self._wake = asyncio.Event()
        self._name: str | None = None
        self._registered = False
        self._dropped = 0

    async def start(self) -> bool:
        """Register with the reader and look at the job; ``False`` when there is no such job."""
        await self._reader.ready()
        self._reader.watch(self.job_id, self)
        self._registered = True
        record = await read_job(self._pipeline, self._job_key, self.job_id)
        if record is not None:
            self._name = record.name
            if record.final is not None:
                self._finish(record.final)
            return True
        found = await final_from_history(self._pipeline, self._reader.stream, self.job_id)
        if found is not None:
            self._finish(found)
        return self._final is not None  # found, or delivered meanwhile

    def close(self) -> None:
        """Unregister (idempotent)."""
        if self._registered:
            self._registered = False
            self._reader.unwatch(self.job_id, self)

    async def next(self) -> JobEvent | None:
        """The next event; ``None`` once the final one was returned."""
        while True:
            if self._pending:
                return await self._complete(self._pending.popleft())
            if self._final is not None:
                if self._final_taken:
                    return None
                self._final_taken = True
                return await self._complete(self._final)
            if self._error is not None:
                raise self._error
            self._wake.clear()
            await self._wake.wait()

    async def final(self) -> FinalEvent:
        """The final event: completed, failed for good, or removed."""
        while self._final is None:
            if self._error is not None:
                raise self._error
            self._wake.clear()
            await self._wake.wait()
        return await self._complete(self._final)

    # -- the reader's side ---------------------------------------------------------------------

    def deliver(self, event: JobEvent) -> None:
        """An event of the job (called by the reader)."""
        if isinstance(event, JobCompleted | JobFailed | JobRemoved):
            self._finish(event)
            return
        if self._keep_all and self._final is None:
            if len(self._pending) < MAX_PENDING:
                self._pending.append(event)
            else:
                self._dropped += 1
                if self._dropped == 1:
                    _log.warning(
                        "job %s of queue %r: events come faster than they are read; "
                        "dropping all but the final one",
                        self.job_id,
                        self._reader.queue,
                    )
        self._wake.set()

    def resync(self) -> None:
        """The reader missed entries (it could not read for a while, and the stream may have
        been trimmed meanwhile): look at the job's hash for an outcome it did not hear."""
        if self._final is None and self._registered:
            task = asyncio.get_running_loop().create_task(self._look_again())
            _RESYNCS.add(task)
            task.add_done_callback(_RESYNCS.discard)

    async def _look_again(self) -> None:
        try:
            record = await read_job(self._pipeline, self._job_key, self.job_id)
        except Exception as error:  # the reader goes on; a later outage looks again
            _log.warning("job %s: reading it after an outage failed: %s", self.job_id, error)
            return
        if record is not None and record.final is not None:
            self._finish(record.final)

    def closed(self, error: BaseException) -> None:
        """The reader closed: the job's events stop here."""
        self._registered = False
        self._error = error
        self._wake.set()

    def _finish(self, event: FinalEvent) -> None:
        if self._final is None:
            self._final = event
        self._wake.set()

    async def _complete(self, event: E) -> E:
        """``event`` with the job name, and for a failure the attempts, filled in."""
        if isinstance(event, JobFailed) and event.attempts_made is None:
            attempts, name = await attempts_and_name(self._pipeline, self._job_key)
            return dataclasses.replace(
                event, attempts_made=attempts, name=event.name or name or self._name
            )
        if event.name is None and self._name is not None:
            return dataclasses.replace(event, name=self._name)
        return event
