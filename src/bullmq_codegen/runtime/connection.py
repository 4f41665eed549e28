"""Redis clients built from a definitions module's connection, and how to show one safely.

Two kinds of client, both with ``decode_responses=True`` as bullmq requires:

* a *command* client, pooled, shared by every queue, producer and worker of one
  event loop (bullmq-py's own connection is a single connection behind one
  lock, which serialises every command);
* a *blocking* client per worker, for the ``BZPOPMIN`` that waits for jobs. Its
  read timeout is longer than the longest block (10 s), which is what makes
  delays of 5 s and more and rate limits work on redis-py 8, whose default read
  timeout is 5 s.

With Redis Sentinel (``sentinels`` and ``service`` in the options) both take their
connections from redis-py's ``SentinelConnectionPool``: each new connection asks
the sentinels where the master is, and a connection to a master that was demoted
(``READONLY``) or lost is dropped, so the next one goes to the new master.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import BusyLoadingError, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..definitions.connection import ConnectionSpec

__all__ = [
    "MAX_BLOCK_SECONDS",
    "SENTINEL_CHECK_SECONDS",
    "blocking_client",
    "command_client",
    "describe_connection",
    "is_connection_error",
]

SENTINEL_CHECK_SECONDS = 0.25
"""How often a client of Redis Sentinel asks the sentinels which server is the master."""

MAX_BLOCK_SECONDS = 10.0
"""Longest ``BZPOPMIN`` a worker issues; a dead connection is noticed within it."""

_COMMAND_READ_TIMEOUT = 30.0
_BLOCKING_READ_TIMEOUT = MAX_BLOCK_SECONDS + 10.0
_CONNECT_TIMEOUT = 5.0


def _retry() -> Retry:
    # Retry only errors raised before a command reached Redis or while it loads
    # its data: a timed-out script may have run, and running an add twice would
    # enqueue a job twice.
    return Retry(
        ExponentialWithJitterBackoff(base=0.05, cap=1.0),
        retries=3,
        supported_errors=(RedisConnectionError, BusyLoadingError),
    )


def _client(spec: ConnectionSpec, **overrides: Any) -> Redis:
    settings: dict[str, Any] = {
        "decode_responses": True,
        "socket_connect_timeout": _CONNECT_TIMEOUT,
        "socket_keepalive": True,
        "retry": _retry(),
        "health_check_interval": 15,
    }
    if isinstance(spec, str):
        settings.update(overrides)
        return Redis.from_url(spec, **settings)  # pyright: ignore[reportUnknownMemberType]
    settings.update({key: value for key, value in spec.items() if value is not None})
    settings.update(overrides)
    if "sentinels" in settings:
        return _sentinel_client(settings)
    return Redis(**settings)


class _SentinelPool(SentinelConnectionPool):
    """A pool of connections to the master the sentinels name.

    redis-py asks the sentinels only when it opens a connection, and a connection
    to a master that the sentinels replaced stays open until that server says
    ``READONLY`` or drops it: after ``SENTINEL FAILOVER`` the old master takes writes
    for about ten more seconds, then loses them when it turns replica. So while the
    pool is in use it asks the sentinels every :data:`SENTINEL_CHECK_SECONDS` and, when
    they name another master, closes every connection to the old one, those in use
    too (their commands in flight fail with a ``ConnectionError``; the next ones go
    to the new master). It also closes its connections to the sentinels when its
    client closes.
    """

    _watcher: asyncio.Task[None] | None = None

    async def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.get_running_loop().create_task(self._watch())
        return await super().get_connection(*args, **kwargs)  # type: ignore[no-untyped-call]  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]

    async def _watch(self) -> None:
        manager: Sentinel = self.sentinel_manager
        while True:
            await asyncio.sleep(SENTINEL_CHECK_SECONDS)
            named = await _master_named(manager, str(self.service_name))  # pyright: ignore[reportUnknownArgumentType]
            if named is not None and self.master_address not in (None, named):
                self.master_address = named
                await SentinelConnectionPool.disconnect(self, inuse_connections=True)

    async def disconnect(self, inuse_connections: bool = True) -> None:
        await super().disconnect(inuse_connections)
        if inuse_connections:  # closing, not just dropping idle connections to an old master
            if self._watcher is not None and self._watcher is not asyncio.current_task():
                self._watcher.cancel()
            self._watcher = None
            manager: Sentinel = self.sentinel_manager
            await manager.aclose()


async def _master_named(manager: Sentinel, service: str) -> tuple[str, int] | None:
    """The master's address, as the first sentinel that answers names it (``None``: none)."""
    for sentinel in manager.sentinels:
        try:
            reply: Any = await sentinel.execute_command(  # type: ignore[no-untyped-call]  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
                "SENTINEL", "GET-MASTER-ADDR-BY-NAME", service
            )
        except RedisError:  # unreachable, or refusing (a password it wants): ask another
            continue
        if isinstance(reply, list | tuple) and len(reply) == 2:  # pyright: ignore[reportUnknownArgumentType]
            return str(reply[0]), int(reply[1])  # pyright: ignore[reportUnknownArgumentType]
    return None


def _sentinel_client(settings: dict[str, Any]) -> Redis:
    """A client whose connections go to the master of ``settings``' sentinels."""
    sentinels: list[tuple[str, int]] = settings.pop("sentinels")
    service: str = settings.pop("service")
    single = bool(settings.pop("single_connection_client", False))
    asking: dict[str, Any] = {
        "socket_connect_timeout": _CONNECT_TIMEOUT,
        "socket_timeout": _CONNECT_TIMEOUT,
        "decode_responses": True,
    }
    for key in ("username", "password"):
        value = settings.pop(f"sentinel_{key}", None)
        if value is not None:
            asking[key] = value
    manager = Sentinel(sentinels, sentinel_kwargs=asking)  # type: ignore[no-untyped-call]
    pool = _SentinelPool(service, manager, **settings)  # type: ignore[no-untyped-call]
    client = Redis(connection_pool=pool, single_connection_client=single)
    client.auto_close_connection_pool = True  # its pool is its own: close it with the client
    return client


def command_client(spec: ConnectionSpec) -> Redis:
    """A pooled client for non-blocking commands (scripts, reads)."""
    return _client(spec, socket_timeout=_COMMAND_READ_TIMEOUT)


def blocking_client(spec: ConnectionSpec) -> Redis:
    """A single-connection client for a worker's blocking wait for jobs."""
    return _client(
        spec,
        socket_timeout=_BLOCKING_READ_TIMEOUT,
        single_connection_client=True,
        health_check_interval=0,
    )


def describe_connection(spec: ConnectionSpec) -> str:
    """Where ``spec`` points, without user name or password (safe to log)."""
    if isinstance(spec, str):
        parts = urlsplit(spec)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        if parts.username or parts.password:
            netloc = f"***@{netloc}"
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    sentinels = spec.get("sentinels")
    if sentinels:
        secret = ("username", "password", "sentinel_username", "sentinel_password")
        auth = "***@" if any(spec.get(key) for key in secret) else ""
        where = ",".join(f"{host}:{port}" for host, port in sentinels)
        return f"redis-sentinel://{auth}{where}/{spec.get('service', '')}/{spec.get('db', 0)}"
    if spec.get("unix_socket_path"):
        return f"unix://{spec.get('unix_socket_path')}?db={spec.get('db', 0)}"
    scheme = "rediss" if spec.get("ssl") else "redis"
    auth = "***@" if spec.get("password") or spec.get("username") else ""
    return f"{scheme}://{auth}{spec.get('host', 'localhost')}:{spec.get('port', 6379)}/{spec.get('db', 0)}"


def is_connection_error(error: BaseException) -> bool:
    """Whether ``error`` means Redis could not be reached (worth retrying later)."""
    return isinstance(
        error, RedisConnectionError | RedisTimeoutError | BusyLoadingError | OSError | TimeoutError
    )
