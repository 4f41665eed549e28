"""A worker's (or event reader's) blocking connection on a cluster: to its slot's owner.

A worker waits for jobs with ``BZPOPMIN`` on its queue's marker key, and an
event reader with ``XREAD BLOCK`` on its stream, each on a connection of its
own. On a cluster that connection must reach the master of the queue's slot,
and the next master after a failover or a resharding: :class:`SlotBlockingClient`
looks the owner up before connecting, and after a redirection or a lost
connection drops the connection and raises, so the caller's own retry (the
worker's fetch loop, the reader's read loop) reconnects to the new owner.
A redirection is raised as a ``ConnectionError``: it means this connection no
longer reaches the queue, and callers treat it like one (they ask the new
connection's ``CLIENT ID`` again, never unblocking a stale one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis
from redis.exceptions import AskError, ClusterDownError, MovedError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..connection import blocking_client
from .nodes import node_options

if TYPE_CHECKING:
    from .router import ClusterRouter

__all__ = ["SlotBlockingClient", "SlotMovedError"]


class SlotMovedError(RedisConnectionError):
    """The slot of this connection's keys is served elsewhere now (``MOVED``, ``ASK``...)."""


class SlotBlockingClient(Redis):
    """A single-connection client that follows its hash slot to the master that owns it."""

    def __init__(self, router: ClusterRouter, slot: int) -> None:
        # the settings of any blocking client (timeouts, TLS, credentials); the address
        # is the owner's, set before each (re)connect
        settings = blocking_client(node_options(router.node_options(), "localhost", 6379))  # type: ignore[arg-type]
        super().__init__(  # pyright: ignore[reportUnknownMemberType]
            connection_pool=settings.connection_pool, single_connection_client=True
        )
        self.auto_close_connection_pool = True  # the pool is this client's alone
        self._router = router
        self._slot = slot
        self._stale = True

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        """Run a command on the slot's owner (looked up again after it was lost)."""
        if self._stale:
            await self._point_at_owner()
        try:
            return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
        except (AskError, TryAgainError, ClusterDownError) as error:
            self._stale = True
            if isinstance(error, MovedError):
                await self._router.moved(error)
            elif isinstance(error, ClusterDownError):
                self._router.refresh_soon()
            raise SlotMovedError(f"slot {self._slot} is served elsewhere now: {error}") from error
        except (RedisConnectionError, RedisTimeoutError, OSError):
            self._stale = True
            self._router.refresh_soon()
            raise

    async def _point_at_owner(self) -> None:
        host, port = await self._router.owner_address(self._slot)
        pool = self.connection_pool
        pool.connection_kwargs.update(host=host, port=port)
        connection: Any = self.connection
        if connection is not None and (connection.host, connection.port) != (host, port):
            await connection.disconnect()
            connection.host, connection.port = host, port
        self._stale = False
