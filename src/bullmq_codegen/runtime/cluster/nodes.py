"""Clients of single cluster nodes, whose failure to connect says the command was not sent.

A command that reached a node that then died may have run; one whose node
could not be reached did not, and can safely go to the node that replaces it.
redis-py raises ``ConnectionError`` in both cases; the connections made here
raise :class:`NodeUnreachable` (a ``ConnectionError``) for the second, so the
router can tell them apart without looking inside the auto-pipeline.
"""

from __future__ import annotations

import time
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.connection import Connection, SSLConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..connection import command_client

__all__ = ["NodeUnreachable", "node_client", "node_options"]


class NodeUnreachable(RedisConnectionError):
    """No connection could be opened to a node: the command was never sent."""


_DOWN_FOR = 0.5
"""Seconds a node that could not be reached is not tried again: the commands queued
behind a failed connect fail at once, instead of each waiting for its own attempt."""

_down_until: dict[tuple[str, int], float] = {}
"""Node address → when it may be tried again (shared by every loop: a node is down for all)."""


async def _connect(connection: Connection, connect: Any) -> None:
    if connection.is_connected:
        return
    address = (connection.host, connection.port)
    until = _down_until.get(address)
    if until is not None and time.monotonic() < until:
        raise NodeUnreachable(f"cannot reach {connection.host}:{connection.port} (just failed)")
    try:
        await connect()
    except (RedisConnectionError, RedisTimeoutError, OSError) as error:
        _down_until[address] = time.monotonic() + _DOWN_FOR
        raise NodeUnreachable(
            f"cannot reach {connection.host}:{connection.port}: {error}"
        ) from error
    _down_until.pop(address, None)


class _NodeConnection(Connection):
    async def connect(self) -> None:
        await _connect(self, super().connect)


class _NodeSSLConnection(SSLConnection):
    async def connect(self) -> None:
        await _connect(self, super().connect)


def node_options(options: dict[str, Any], host: str, port: int) -> dict[str, Any]:
    """``options`` (a cluster's connection options) pointed at node ``host:port``."""
    return {**options, "host": host, "port": port}


def node_client(options: dict[str, Any], host: str, port: int) -> Redis:
    """A pooled command client of node ``host:port`` whose connect failures are
    :class:`NodeUnreachable`."""
    client = command_client(node_options(options, host, port))  # type: ignore[arg-type]
    pool = client.connection_pool
    ssl = issubclass(pool.connection_class, SSLConnection)
    pool.connection_class = _NodeSSLConnection if ssl else _NodeConnection
    return client
