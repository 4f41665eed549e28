"""Auto-pipelining: commands of every coroutine share one connection, never waiting for
each other's replies.

bullmq-py sends each command on a single connection behind one lock, waiting
for its reply before the next can go: 50 concurrent adds are slower than
sequential ones. Here commands from every coroutine of the loop (producers,
worker slots, lock renewals) are written as they come while few are in flight
(Redis starts on them at once) and together once per loop turn when many are
(one write for many), and their replies are read in order by one reader, as
ioredis does for Node. The
connection comes from redis-py's pool (which handles TLS, AUTH, SELECT and
unix sockets); redis-py also parses the replies (with hiredis when installed:
then the replies hiredis has received already are taken from its reader at
once, as a batch of a busy worker's replies comes, rather than through one
``read_response``, with its timeout scope, each).

Semantics are those of single commands: each caller gets its own reply or its
own error. Every error reply is its command's own, including those redis-py
maps to connection errors (``-LOADING``, ``-NOAUTH``): the replies after it are
read as usual. A ``-LOADING`` reply (Redis is loading its data after a restart)
means the command did not run, so :meth:`AutoPipeline.execute` sends that
command again, with backoff, for up to :data:`LOADING_PATIENCE` seconds (and
:meth:`AutoPipeline.execute_all` its commands, when Redis ran none of them);
past that its caller gets redis-py's ``BusyLoadingError``. A connection that
Redis closed while idle (a restart, ``CLIENT KILL``, its ``timeout``) is
replaced before the next command is written. When the connection breaks with
commands in flight, each of them fails with a ``ConnectionError`` (it may or
may not have run, as with any client); the next command opens a new connection.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import Iterator
from typing import Any

from redis._parsers.hiredis import NOT_ENOUGH_DATA
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import (
    BusyLoadingError,
    ExecAbortError,
    NoScriptError,
    RedisError,
    ResponseError,
)
from redis.exceptions import ConnectionError as RedisConnectionError

from .resp import ScriptCommand, pack

__all__ = ["LOADING_PATIENCE", "AutoPipeline"]

_WRITE_AT_ONCE_BELOW = 32
"""While fewer commands than this wait for a reply, a command is written at once (Redis
starts on it while the loop goes on: on two free cores, the client and Redis work at the
same time); past it, commands wait for the end of the loop turn and go out together."""

LOADING_PATIENCE = 5.0
"""Seconds a command refused with ``-LOADING`` is sent again (with backoff) before its
caller gets the ``BusyLoadingError``."""

_MULTI = pack("MULTI")
_EXEC = pack("EXEC")


_READ_SIZE = 65_536
"""Bytes asked of the connection's stream per read (redis-py's own read size)."""


class _Link:
    """One connection and the commands in flight on it."""

    __slots__ = (
        "connection",
        "flush_scheduled",
        "loop",
        "outgoing",
        "parked",
        "reader",
        "reading_since",
        "waiting",
        "watchdog",
    )

    def __init__(self, connection: AbstractConnection, loop: asyncio.AbstractEventLoop) -> None:
        self.connection = connection
        self.loop = loop
        self.outgoing: list[bytes] = []
        self.waiting: collections.deque[asyncio.Future[Any]] = collections.deque()
        self.flush_scheduled = False
        self.reader: asyncio.Task[None] | None = None
        self.reading_since = 0.0
        """Since when the reader has waited for the bytes of a command's reply (loop time); 0
        when it is not waiting, or only parked (see ``parked``)."""
        self.parked = False
        """Whether the reader waits for bytes while no command waits for a reply: it stays
        on the connection between commands (no task per burst of commands) and a command
        sent then starts the wait's timeout."""
        self.watchdog: asyncio.TimerHandle | None = None
        """The timer that ends a wait for bytes longer than the connection's socket timeout."""


class AutoPipeline:
    """One connection of ``client``'s pool, shared by every coroutine of one event loop."""

    def __init__(self, client: Redis) -> None:
        self._client = client
        self._link: _Link | None = None
        self._connecting = asyncio.Lock()
        self._closed = False
        self._disconnecting: set[asyncio.Task[None]] = set()

    async def execute(self, packed: bytes) -> Any:
        """Send one encoded command (see :mod:`.resp`) and return its reply."""
        link = self._link
        if link is not None and (link.waiting or not _closed_by_peer(link)):
            future = self._queue(link, packed)  # the connection is up: no await to send
        else:
            (future,) = await self._send([packed])
        try:
            return await future
        except BusyLoadingError:  # it did not run: send it again once Redis has loaded
            deadline = time.monotonic() + LOADING_PATIENCE
            for delay in _loading_delays(deadline):
                await asyncio.sleep(delay)
                (future,) = await self._send([packed])
                try:
                    return await future
                except BusyLoadingError:
                    continue
            raise

    async def execute_all(self, commands: list[bytes]) -> list[Any]:
        """Send ``commands`` back to back (nothing else between them) and return their replies.

        A reply that is an error is returned as the exception, not raised, so a
        ``MULTI`` ... ``EXEC`` transaction can be sent this way. When Redis was
        loading its data and so ran none of them, they are sent again (see the
        module's docs).
        """
        replies = await self._replies(commands)
        if not any(isinstance(reply, BusyLoadingError) for reply in replies):
            return replies
        deadline = time.monotonic() + LOADING_PATIENCE
        for delay in _loading_delays(deadline):
            if not _ran_nothing(commands, replies):
                break
            await asyncio.sleep(delay)
            replies = await self._replies(commands)
        return replies

    async def _replies(self, commands: list[bytes]) -> list[Any]:
        futures = await self._send(commands)
        await asyncio.wait(futures)
        return [future.exception() or future.result() for future in futures]

    async def _send(self, commands: list[bytes]) -> list[asyncio.Future[Any]]:
        link = self._link
        if link is not None and not link.waiting and _closed_by_peer(link):
            # Redis closed the idle connection (restart, CLIENT KILL, its idle timeout):
            # nothing is in flight, so reconnect before writing instead of failing a command.
            self._broken(link, RedisConnectionError("the connection to Redis was closed"))
            link = None
        if link is None:
            link = await self._connect()
        loop = link.loop
        futures: list[asyncio.Future[Any]] = [loop.create_future() for _ in commands]
        link.waiting.extend(futures)
        link.outgoing.extend(commands)
        self._sent(link)
        return futures

    def _queue(self, link: _Link, packed: bytes) -> asyncio.Future[Any]:
        """Send one command on ``link`` (up): its reply's future."""
        future: asyncio.Future[Any] = link.loop.create_future()
        link.waiting.append(future)
        link.outgoing.append(packed)
        self._sent(link)
        return future

    def _sent(self, link: _Link) -> None:
        """Write what ``link`` has to send, now or at the end of the loop turn (see
        :data:`_WRITE_AT_ONCE_BELOW`), and make sure its replies are read."""
        if not link.flush_scheduled:
            if len(link.waiting) < _WRITE_AT_ONCE_BELOW:
                self._flush(link)
            else:
                link.flush_scheduled = True
                link.loop.call_soon(self._flush, link)
        if link.reader is None:
            link.reader = link.loop.create_task(self._read(link))
        elif link.parked:
            link.parked = False
            self._waiting_since(link, link.loop.time())

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    async def _discard(self, connection: AbstractConnection) -> None:
        """Close a broken connection and give it back to its pool (which reconnects it)."""
        with contextlib.suppress(Exception):
            await connection.disconnect()
        with contextlib.suppress(Exception):
            await self._client.connection_pool.release(connection)

    async def run_script(self, command: ScriptCommand, packed: bytes) -> Any:
        """Run ``packed`` (an EVALSHA of ``command``), loading the script first if Redis lost it."""
        try:
            return await self.execute(packed)
        except NoScriptError:
            await self.execute(pack("SCRIPT", "LOAD", command.source))
            return await self.execute(packed)

    async def close(self) -> None:
        """Fail what is still waiting and close the connection."""
        self._closed = True
        link = self._link
        self._link = None
        if link is None:
            return
        if link.reader is not None:
            link.reader.cancel()
            with contextlib.suppress(BaseException):
                await link.reader
        if link.watchdog is not None:
            link.watchdog.cancel()
        _fail(link, RedisConnectionError("the connection was closed"))
        with contextlib.suppress(Exception):
            await link.connection.disconnect()
        with contextlib.suppress(Exception):
            await self._client.connection_pool.release(link.connection)

    async def _connect(self) -> _Link:
        async with self._connecting:
            if self._closed:
                raise RedisConnectionError("the connection was closed")
            if self._link is None:
                pool: Any = self._client.connection_pool  # redis-py leaves get_connection untyped
                connection = await pool.get_connection()
                if self.closed:  # closed while connecting
                    await pool.release(connection)
                    raise RedisConnectionError("the connection was closed")
                self._link = _Link(connection, asyncio.get_running_loop())
            return self._link

    def _flush(self, link: _Link) -> None:
        link.flush_scheduled = False
        data = b"".join(link.outgoing)
        link.outgoing.clear()
        writer = link.connection._writer  # pyright: ignore[reportPrivateUsage]
        if writer is None or link is not self._link:
            self._broken(link, RedisConnectionError("the connection to Redis was lost"))
            return
        try:
            writer.write(data)
        except Exception as error:  # a transport closed under us
            self._broken(link, RedisConnectionError(f"writing to Redis failed: {error}"))

    async def _read(self, link: _Link) -> None:
        connection = link.connection
        received = _received_replies(connection)
        stream = _stream(connection) if received is not None else None
        parser: Any = getattr(connection, "_parser", None)
        push: Any = getattr(parser, "_hiredis_PushNotificationType", None)
        try:
            # the direct reader stays (parked) while nothing waits; redis-py's, per burst
            while link.waiting or stream is not None:
                # the replies hiredis holds already are taken at once; else wait for more
                reply: Any = received.gets() if received is not None else NOT_ENOUGH_DATA
                if reply is NOT_ENOUGH_DATA and stream is not None and received is not None:
                    received.feed(await self._receive(link, stream))
                    continue
                if reply is NOT_ENOUGH_DATA:
                    try:
                        # a broken connection is closed by _broken, whatever the error
                        reply = await link.connection.read_response(disconnect_on_error=False)  # pyright: ignore[reportUnknownVariableType]
                    except RedisError as error:
                        if not _is_error_reply(error):
                            raise
                        reply = error
                elif push is not None and isinstance(reply, push):
                    # a RESP3 push (no command's reply): redis-py's handlers take it, as there
                    await parser.handle_push_response(reply)
                    continue
                elif (
                    isinstance(reply, list) and reply and isinstance(reply[0], RedisConnectionError)
                ):
                    reply = reply[0]  # as redis-py's read_response raises it
                if not link.waiting:
                    raise RedisConnectionError("Redis sent a reply no command waits for")
                future = link.waiting.popleft()
                if future.done():
                    continue
                if isinstance(reply, RedisError):  # an error reply: its command's own
                    future.set_exception(reply)
                else:
                    future.set_result(reply)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            lost = (
                error
                if isinstance(error, RedisConnectionError)
                else RedisConnectionError(str(error))
            )
            self._broken(link, lost)
        finally:
            link.reader = None
            link.reading_since = 0.0
            link.parked = False

    async def _receive(self, link: _Link, stream: asyncio.StreamReader) -> bytes:
        """The next bytes of ``link``'s connection, read from its stream for hiredis to parse
        (rather than with redis-py's ``read_response``: a timeout scope and three coroutines
        per read). A wait longer than the connection's ``socket_timeout`` fails, as there."""
        if link.waiting:
            self._waiting_since(link, link.loop.time())
        else:
            link.parked = True
        data = await stream.read(_READ_SIZE)
        link.reading_since = 0.0
        link.parked = False
        if not data:
            raise RedisConnectionError("Connection closed by server.")
        return data

    def _waiting_since(self, link: _Link, now: float) -> None:
        """The reader waits for a reply's bytes from ``now``: time it (the watchdog)."""
        timeout: float | None = link.connection.socket_timeout
        if timeout:
            link.reading_since = now
            if link.watchdog is None:
                link.watchdog = link.loop.call_at(now + timeout, self._watch, link, timeout)

    def _watch(self, link: _Link, timeout: float) -> None:
        """End the reader's wait for a reply's bytes if it has lasted ``timeout`` seconds; else
        look again when it would have (one timer per connection, moved on, not one per read)."""
        link.watchdog = None
        if not link.reading_since or link.reader is None or link is not self._link:
            return  # not waiting: the next wait starts the timer again
        due = link.reading_since + timeout
        if link.loop.time() >= due:
            stream = _stream(link.connection)
            if stream is not None:
                stream.set_exception(
                    RedisConnectionError(f"Timeout reading from Redis: no reply for {timeout:g} s")
                )
        else:
            link.watchdog = link.loop.call_at(due, self._watch, link, timeout)

    def _broken(self, link: _Link, error: BaseException) -> None:
        if link.watchdog is not None:
            link.watchdog.cancel()
            link.watchdog = None
        if self._link is link:
            self._link = None
            link.outgoing.clear()
            task = asyncio.get_running_loop().create_task(self._discard(link.connection))
            self._disconnecting.add(task)
            task.add_done_callback(self._disconnecting.discard)
        _fail(link, error)


def _received_replies(connection: AbstractConnection) -> Any:
    """hiredis's reader of ``connection``'s replies, or ``None`` (no hiredis: redis-py reads
    them): the replies it holds already are taken from it directly, not with one
    ``read_response`` (a timeout scope, two awaits) each, and it is fed the bytes read."""
    reader = getattr(getattr(connection, "_parser", None), "_reader", None)
    return reader if hasattr(reader, "gets") else None


def _stream(connection: AbstractConnection) -> asyncio.StreamReader | None:
    """The stream redis-py's hiredis parser reads ``connection``'s bytes from, if it has one."""
    stream = getattr(getattr(connection, "_parser", None), "_stream", None)
    return stream if isinstance(stream, asyncio.StreamReader) else None


def _is_error_reply(error: RedisError) -> bool:
    """Whether ``error`` is an error reply of Redis (the connection reads on), not a lost
    connection: redis-py raises some error replies as connection errors (``LOADING``,
    ``NOAUTH``), and gives every error reply its code."""
    return isinstance(error, ResponseError) or error.status_code is not None


def _loading_delays(deadline: float) -> Iterator[float]:
    """Waits between sends of a command refused with ``-LOADING``, until ``deadline``."""
    delay = 0.05
    while time.monotonic() + delay < deadline:
        yield delay
        delay = min(delay * 2, 1.0)


def _ran_nothing(commands: list[bytes], replies: list[Any]) -> bool:
    """Whether Redis ran none of ``commands``: each was refused with ``-LOADING`` or queued in a
    ``MULTI`` whose ``EXEC`` was aborted (a command refused while queueing aborts it)."""
    aborted = False  # walking back: inside a transaction whose EXEC was aborted
    for command, reply in zip(reversed(commands), reversed(replies), strict=True):
        if command == _EXEC:
            aborted = isinstance(reply, ExecAbortError)
            if not aborted:
                return False
        elif command == _MULTI:
            if not aborted:
                return False
            aborted = False
        elif not (aborted or isinstance(reply, BusyLoadingError)):
            return False
    return True


def _closed_by_peer(link: _Link) -> bool:
    """Whether the server closed ``link``'s connection (seen while it was idle)."""
    connection = link.connection
    reader = connection._reader  # pyright: ignore[reportPrivateUsage]
    writer = connection._writer  # pyright: ignore[reportPrivateUsage]
    return reader is None or writer is None or reader.at_eof() or writer.is_closing()


def _fail(link: _Link, error: BaseException) -> None:
    while link.waiting:
        future = link.waiting.popleft()
        if not future.done():
            future.set_exception(error)
