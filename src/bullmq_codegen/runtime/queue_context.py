"""bullmq's view of one queue on one event loop: its keys and Lua scripts over our client.

This is the one place that builds bullmq objects. bullmq's ``Job`` and
``Scripts`` expect a "queue" with ``backend``, ``qualifiedName`` and ``opts``;
:class:`QueueContext` is that object, over a Redis client that bullmq does not own.
"""

from __future__ import annotations

from typing import Any

from bullmq.backends.redis_backend import RedisBackend
from bullmq.redis_connection import RedisConnection
from redis.asyncio import Redis
from redis.commands.core import AsyncScript

__all__ = ["QueueContext", "load_scripts"]


def load_scripts(client: Redis) -> RedisConnection:
    """bullmq's Lua scripts registered on ``client`` (no I/O; shared by every queue of a loop)."""
    return RedisConnection(client, skipVersionCheck=True)


class QueueContext:
    """One queue's keys, scripts and options, as bullmq's ``Job`` and ``Scripts`` read them."""

    __slots__ = ("backend", "commands", "keys", "name", "opts", "prefix", "qualifiedName")

    def __init__(
        self, *, name: str, prefix: str, scripts: RedisConnection, opts: dict[str, Any]
    ) -> None:
        self.name = name
        self.prefix = prefix
        self.backend = RedisBackend(name, scripts, None, prefix, owns_connection=False)
        self.qualifiedName: str = self.backend.qualifiedName
        self.keys: dict[str, str] = self.backend.keys
        self.commands: dict[str, AsyncScript] = scripts.commands
        self.opts = opts

    @property
    def client(self) -> Redis:
        """The command client the scripts run on."""
        return self.backend.connection.conn

    def job_key(self, job_id: str) -> str:
        """The hash key of job ``job_id``."""
        return self.keys[""] + job_id
