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
connections from a :class:`~.sentinel_pool.SentinelPool` (redis-py's
``SentinelConnectionPool``, with one watch of the sentinels per event loop): each
new connection asks the sentinels where the master is, and a connection to a
master that was demoted (``READONLY``), lost, or replaced is dropped, so the next
one goes to the new master.

This module imports redis-py only when it builds a client (or classifies an
error, which follows one), not when generated code imports it.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from ..definitions.connection import ConnectionSpec

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry

    from .sentinel_pool import SENTINEL_CHECK_SECONDS

__all__ = [
    "MAX_BLOCK_SECONDS",
    "SENTINEL_CHECK_SECONDS",
    "blocking_client",
    "certificate_refused",
    "command_client",
    "describe_connection",
    "is_connection_error",
]

MAX_BLOCK_SECONDS = 10.0
"""Longest ``BZPOPMIN`` a worker issues; a dead connection is noticed within it."""

_COMMAND_READ_TIMEOUT = 30.0
_BLOCKING_READ_TIMEOUT = MAX_BLOCK_SECONDS + 10.0
_CONNECT_TIMEOUT = 5.0


def _retry() -> Retry:
    from redis.asyncio.retry import Retry
    from redis.backoff import ExponentialWithJitterBackoff
    from redis.exceptions import BusyLoadingError
    from redis.exceptions import ConnectionError as RedisConnectionError

    # Retry only errors raised before a command reached Redis or while it loads
    # its data: a timed-out script may have run, and running an add twice would
    # enqueue a job twice.
    return Retry(
        ExponentialWithJitterBackoff(base=0.05, cap=1.0),
        retries=3,
        supported_errors=(RedisConnectionError, BusyLoadingError),
    )


def _client(spec: ConnectionSpec, **overrides: Any) -> Redis:
    from redis.asyncio import Redis

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


def _sentinel_client(settings: dict[str, Any]) -> Redis:
    """A client whose connections go to the master of ``settings``' sentinels."""
    from redis.asyncio import Redis

    from .sentinel_pool import SentinelPool

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
    pool = SentinelPool(service, sentinels, asking, **settings)
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
    where = f"{auth}{spec.get('host', 'localhost')}:{spec.get('port', 6379)}"
    if spec.get("cluster"):  # a seed node, with only database 0: the cluster names the others
        return f"{scheme}-cluster://{where}"
    return f"{scheme}://{where}/{spec.get('db', 0)}"


def certificate_refused(error: BaseException) -> ssl.SSLCertVerificationError | None:
    """The failed TLS certificate check ``error`` comes from, if any: the server's certificate
    is not one the connection's CA vouches for, or not for that host. A setting to fix, which
    waiting will not mend (unlike a Redis that is down)."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return None


def is_connection_error(error: BaseException) -> bool:
    """Whether ``error`` means Redis could not be reached (worth retrying later)."""
    from redis.exceptions import BusyLoadingError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return isinstance(
        error, RedisConnectionError | RedisTimeoutError | BusyLoadingError | OSError | TimeoutError
    )


def __getattr__(name: str) -> object:
    # The Sentinel pool's module imports redis-py's Sentinel client: only when asked for.
    if name == "SENTINEL_CHECK_SECONDS":
        from .sentinel_pool import SENTINEL_CHECK_SECONDS

        return SENTINEL_CHECK_SECONDS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
