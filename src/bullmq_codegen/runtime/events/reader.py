"""One reader of a queue's event stream per event loop, serving every waiter and listener.

Like Node's ``QueueEvents``: a loop of ``XREAD BLOCK`` on the queue's
``events`` stream, on a connection of its own (a blocking read would hold up
every command queued behind it on the shared auto-pipelined connection). It
starts when something first needs it, reading from the stream's last entry at
that moment, and hands each entry to the sinks registered for its job id and to
the queue-wide ones; entries nobody asked for are dropped. After a connection
error it reconnects and reads on from the last entry it saw, its sinks kept. It
stops a few seconds after the last sink leaves (so sequential waits share one
reader), or when the runtime closes its connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ...errors import BullMQCodegenError
from ..connection import MAX_BLOCK_SECONDS, is_connection_error
from .types import JobEvent, parse_entry

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["EventReader", "EventsClosedError", "Sink"]

_log = logging.getLogger("bullmq_codegen.events")

LINGER_SECONDS = 5.0
"""How long a reader nobody needs goes on reading before it stops."""

_BATCH = 1000
_BLOCK_MS = int(MAX_BLOCK_SECONDS * 1000)

Entry = tuple[str, dict[str, str]]


class EventsClosedError(BullMQCodegenError):
    """The connections were closed (``close_connections()``) while waiting for a job's events."""


class Sink(Protocol):
    """Something the reader hands events to; both methods are called on the loop, and must
    not block."""

    def deliver(self, event: JobEvent) -> None:
        """An event it registered for."""
        ...

    def closed(self, error: BaseException) -> None:
        """The reader was closed: no more events."""
        ...


class EventReader:
    """Follows one queue's event stream on one event loop, for every sink registered."""

    def __init__(
        self, *, queue: str, stream: str, connect: Callable[[], Redis], client_name: str
    ) -> None:
        self.queue = queue
        self.stream = stream
        self._connect = connect
        self._client_name = client_name
        self._jobs: dict[str, list[Sink]] = {}
        self._everyone: list[Sink] = []
        self._follower: _Follower | None = None
        self._ending: set[asyncio.Task[None]] = set()
        self._linger: asyncio.TimerHandle | None = None
        self._closed = False

    @property
    def following(self) -> bool:
        """Whether a read loop runs (or is starting)."""
        return self._follower is not None

    @property
    def watched(self) -> int:
        """How many jobs have a waiter or a watcher now."""
        return len(self._jobs)

    @property
    def listeners(self) -> int:
        """How many queue-wide sinks (subscriptions) are registered now."""
        return len(self._everyone)

    async def ready(self) -> None:
        """Start following the stream if it is not; return once the position it reads on
        from is taken, so that every entry added from now on reaches the sinks."""
        if self._closed:
            raise EventsClosedError(f"the event reader of queue {self.queue!r} is closed")
        follower = self._follower
        if follower is None:
            client = self._connect()
            # named on every (re)connect, so CLIENT LIST says what the connection is
            client.connection_pool.connection_kwargs["client_name"] = self._client_name
            follower = _Follower(self, client)
            self._follower = follower
            self._ending.add(follower.task)
            follower.task.add_done_callback(self._ending.discard)
        await asyncio.shield(follower.started)
        self._idle_check()

    def resync(self) -> None:
        """Reading failed for a while: the stream may have been trimmed past entries the
        watchers needed, so each looks at its job's hash again."""
        for sinks in list(self._jobs.values()):
            for sink in sinks:
                resync = getattr(sink, "resync", None)
                if callable(resync):
                    resync()

    def watch(self, job_id: str, sink: Sink) -> None:
        """Give ``sink`` the events of job ``job_id`` (call :meth:`ready` first)."""
        self._jobs.setdefault(job_id, []).append(sink)
        self._busy()

    def unwatch(self, job_id: str, sink: Sink) -> None:
        """Stop giving ``sink`` the events of ``job_id``."""
        sinks = self._jobs.get(job_id)
        if sinks is not None:
            with contextlib.suppress(ValueError):
                sinks.remove(sink)
            if not sinks:
                del self._jobs[job_id]
        self._idle_check()

    def listen(self, sink: Sink) -> None:
        """Give ``sink`` the events of every job."""
        self._everyone.append(sink)
        self._busy()

    def unlisten(self, sink: Sink) -> None:
        """Stop giving ``sink`` events."""
        with contextlib.suppress(ValueError):
            self._everyone.remove(sink)
        self._idle_check()

    async def close(self) -> None:
        """Stop reading, close the connection, and tell every sink."""
        self._closed = True
        self._cancel_linger()
        self._stop_follower()
        if self._ending:
            await asyncio.gather(*self._ending, return_exceptions=True)
        error = EventsClosedError(f"the connections of queue {self.queue!r} were closed")
        sinks = [*self._everyone, *(sink for sinks in self._jobs.values() for sink in sinks)]
        self._jobs.clear()
        self._everyone.clear()
        for sink in sinks:
            sink.closed(error)

    # -- dispatching ---------------------------------------------------------------------------

    def dispatch(self, entries: Sequence[Entry]) -> None:
        """Hand each entry to the sinks of its job and to the queue-wide ones."""
        jobs = self._jobs
        everyone = self._everyone
        for index, (_entry_id, fields) in enumerate(entries):
            job_id = fields.get("jobId")
            if job_id is None:
                continue
            sinks = jobs.get(job_id)
            if sinks is None and not everyone:
                continue
            try:
                event = parse_entry(fields, _attempts_after(entries, index, job_id))
            except ValueError:
                _log.warning("queue %r: unreadable event entry %r", self.queue, fields)
                continue
            if event is None:
                continue
            for sink in (*(sinks or ()), *everyone):
                try:
                    sink.deliver(event)
                except Exception:
                    _log.exception("queue %r: handing an event to %r failed", self.queue, sink)

    # -- starting and stopping -----------------------------------------------------------------

    def ended(self, follower: _Follower) -> None:
        """``follower`` stopped (asked to, or it could not start)."""
        if self._follower is follower:
            self._follower = None
            self._cancel_linger()

    def _busy(self) -> None:
        self._cancel_linger()

    def _idle_check(self) -> None:
        if self._jobs or self._everyone or self._follower is None or self._linger is not None:
            return
        self._linger = asyncio.get_running_loop().call_later(LINGER_SECONDS, self._idle_stop)

    def _idle_stop(self) -> None:
        self._linger = None
        if not self._jobs and not self._everyone:
            self._stop_follower()

    def _cancel_linger(self) -> None:
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None

    def _stop_follower(self) -> None:
        follower = self._follower
        self._follower = None
        if follower is not None:
            follower.stop()


def _attempts_after(entries: Sequence[Entry], index: int, job_id: str) -> int | None:
    """``attemptsMade`` of the ``retries-exhausted`` entry a ``failed`` one is followed by."""
    if entries[index][1].get("event") != "failed" or index + 1 >= len(entries):
        return None
    following = entries[index + 1][1]
    if following.get("event") == "retries-exhausted" and following.get("jobId") == job_id:
        return int(following.get("attemptsMade") or 0) or None
    return None


class _Follower:
    """One run of the read loop, on one connection: from start until stopped."""

    def __init__(self, reader: EventReader, client: Redis) -> None:
        loop = asyncio.get_running_loop()
        self._reader = reader
        self._client = client
        self._stopped = False
        self._wake = asyncio.Event()
        self._stopping: asyncio.Future[None] = loop.create_future()
        self._read: asyncio.Future[Any] | None = None
        self.started: asyncio.Future[None] = loop.create_future()
        self.started.add_done_callback(_retrieve)
        self.task = loop.create_task(self._run())

    def stopped(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stopped

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()
        if not self._stopping.done():
            self._stopping.set_result(None)
        if self._read is not None:
            self._read.cancel()
        if not self.started.done():
            self.started.set_exception(EventsClosedError("the event reader was closed"))

    async def _run(self) -> None:
        try:
            cursor = await self._start()
            if cursor is not None:
                await self._follow(cursor)
        finally:
            with contextlib.suppress(Exception):
                await self._client.aclose()
            self._reader.ended(self)

    async def _start(self) -> str | None:
        try:
            latest: Any = await self._client.xrevrange(self._reader.stream, count=1)
        except Exception as error:
            if not self.started.done():
                self.started.set_exception(error)
            return None
        if self._stopped:
            return None
        self.started.set_result(None)
        return str(latest[0][0]) if latest else "0-0"

    async def _follow(self, cursor: str) -> None:
        stream = self._reader.stream
        failures = 0
        while not self.stopped():
            read = asyncio.ensure_future(
                self._client.xread({stream: cursor}, count=_BATCH, block=_BLOCK_MS)
            )
            self._read = read
            try:
                # Not ``await read``: on Python 3.11 a cancellation that lands as redis-py
                # writes the command is lost, and the read would block on for 10 s. Once
                # stopped, a read still under way ends when _run closes the connection.
                either: set[asyncio.Future[Any]] = {read, self._stopping}
                await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
                if not read.done():
                    read.add_done_callback(_retrieve)
                    return
                reply: Any = read.result()
            except asyncio.CancelledError:
                if self.stopped() and not _cancelling():
                    return
                raise
            except Exception as error:
                if self.stopped():
                    return
                failures += 1
                _log.warning(
                    "queue %r: reading its events failed (%s: %s); reading on from %s",
                    self._reader.queue,
                    type(error).__name__,
                    error,
                    cursor,
                )
                pause = (
                    min(0.05 * 2 ** min(failures, 7), 5.0) if is_connection_error(error) else 1.0
                )
                await self._sleep(pause * (0.5 + random.random() / 2))
                continue
            finally:
                self._read = None
            if failures:
                self._reader.resync()
            failures = 0
            for _stream, entries in reply or ():
                if entries:
                    cursor = entries[-1][0]
                    self._reader.dispatch(entries)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark the future's error as seen: a failed start is raised to the callers of
    ``ready()``, and a read abandoned on close has nothing to say."""
    if not future.cancelled():
        future.exception()


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
