"""Queue-wide listeners: an API process hears about every job of a queue.

A listener is any object with some of ``on_completed``, ``on_failed``,
``on_progress`` and ``on_stalled``, each taking the event (and returning
nothing, or an awaitable that is awaited). Events reach it in stream order, one
at a time, from a task of the subscription's own, so a slow listener never
holds up the reader or the job waiters; an exception it raises is logged.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import inspect
import logging
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .lookup import attempts_and_name
from .reader import EventReader, EventsClosedError
from .types import JobCompleted, JobEvent, JobFailed, JobProgressed, JobStalled

if TYPE_CHECKING:
    from ..autopipeline import AutoPipeline

__all__ = ["LISTENER_METHODS", "Subscription"]

_log = logging.getLogger("bullmq_codegen.events")

LISTENER_METHODS: dict[type[JobEvent], str] = {
    JobCompleted: "on_completed",
    JobFailed: "on_failed",
    JobProgressed: "on_progress",
    JobStalled: "on_stalled",
}
"""The event each listener method receives."""

MAX_PENDING = 10_000
"""Events held for a listener that does not keep up; later ones are dropped, with a warning."""


class Subscription:
    """A listener registered on a queue's event reader, until :meth:`close`.

    ``async with queue.subscribe(listener):`` waits until the reader follows the
    stream (so every event from then on is heard) and closes on exit.
    """

    def __init__(
        self, reader: EventReader, pipeline: AutoPipeline, job_prefix: str, listener: object
    ) -> None:
        handlers: dict[type[JobEvent], Callable[[Any], object]] = {}
        for event_type, method in LISTENER_METHODS.items():
            handler = getattr(listener, method, None)
            if handler is not None:
                if not callable(handler):
                    raise TypeError(f"{method} of listener {listener!r} is not callable")
                handlers[event_type] = handler
        if not handlers:
            raise TypeError(
                f"listener {listener!r} of queue {reader.queue!r} has none of the methods "
                + ", ".join(LISTENER_METHODS.values())
            )
        self._reader = reader
        self._pipeline = pipeline
        self._job_prefix = job_prefix
        self._listener = listener
        self._handlers = handlers
        self._pending: collections.deque[JobEvent] = collections.deque()
        self._wake = asyncio.Event()
        self._closing = False
        self._dropped = 0
        reader.listen(self)
        self._task = asyncio.get_running_loop().create_task(self._run())

    def closing(self) -> bool:
        """Whether it was closed (by :meth:`close`, or with the connections)."""
        return self._closing

    async def ready(self) -> None:
        """Return once the queue's reader follows the stream: events from then on are heard."""
        await self._reader.ready()

    async def close(self) -> None:
        """Stop listening (idempotent). An event being handled is let finish; pending ones
        are dropped."""
        if self._closing:
            return
        self._closing = True
        self._reader.unlisten(self)
        self._wake.set()
        await asyncio.gather(self._task, return_exceptions=True)

    async def __aenter__(self) -> Subscription:
        await self.ready()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    # -- the reader's side ---------------------------------------------------------------------

    def deliver(self, event: JobEvent) -> None:
        """An event of the queue (called by the reader)."""
        if type(event) not in self._handlers or self._closing:
            return
        if len(self._pending) >= MAX_PENDING:
            self._dropped += 1
            if self._dropped == 1:
                _log.warning(
                    "listener %r of queue %r does not keep up: dropping events",
                    self._listener,
                    self._reader.queue,
                )
            return
        self._pending.append(event)
        self._wake.set()

    def closed(self, error: BaseException) -> None:
        """The reader closed: nothing more will come."""
        self._closing = True
        self._wake.set()

    # -- delivering ----------------------------------------------------------------------------

    async def _run(self) -> None:
        await self._start_reader()
        while not self.closing():
            if not self._pending:
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = list(self._pending)
            self._pending.clear()
            # the names (and attempts) of a batch in one pipelined round trip
            for event in await asyncio.gather(*(self._complete(event) for event in batch)):
                if self.closing():
                    return
                await self._call(event)

    async def _start_reader(self) -> None:
        """Have the reader follow the stream; while Redis cannot be reached, try again."""
        pause = 0.1
        while not self.closing():
            try:
                await self._reader.ready()
            except EventsClosedError:
                return
            except Exception as error:
                _log.warning(
                    "listener %r of queue %r: cannot follow the events yet (%s); retrying",
                    self._listener,
                    self._reader.queue,
                    error,
                )
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), pause)
                pause = min(pause * 2, 5.0)
            else:
                return

    async def _complete(self, event: JobEvent) -> JobEvent:
        missing_attempts = isinstance(event, JobFailed) and event.attempts_made is None
        if event.name is not None and not missing_attempts:
            return event
        try:
            attempts, name = await attempts_and_name(
                self._pipeline, self._job_prefix + event.job_id
            )
        except Exception as error:
            _log.warning(
                "queue %r: reading job %s failed: %s", self._reader.queue, event.job_id, error
            )
            return event
        if isinstance(event, JobFailed):
            known = event.attempts_made
            return dataclasses.replace(
                event, name=event.name or name, attempts_made=attempts if known is None else known
            )
        return dataclasses.replace(event, name=event.name or name)

    async def _call(self, event: JobEvent) -> None:
        try:
            result = self._handlers[type(event)](event)
            if inspect.isawaitable(result):
                await result
        except Exception:
            _log.exception(
                "listener %r of queue %r failed on %r", self._listener, self._reader.queue, event
            )
