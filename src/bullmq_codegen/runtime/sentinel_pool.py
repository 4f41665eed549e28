"""Connection pools to the master Redis Sentinel names, and one watch of the sentinels per loop.

Every client of a Sentinel deployment (an event loop's command client, each
worker's and each event reader's blocking one) has a :class:`SentinelPool`. They
share, per event loop and deployment, one :class:`_MasterWatch`: one connection
to the sentinels, one question at a time when connections open together, and one
check every :data:`SENTINEL_CHECK_SECONDS` (not one per client: a process with
fifty queues would keep a hundred connections to the sentinels and ask them four
hundred times a second).

redis-py asks the sentinels only when it opens a connection, and a connection
to a master that the sentinels replaced stays open until that server says
``READONLY`` or drops it: after ``SENTINEL FAILOVER`` the old master takes writes
for about ten more seconds, then loses them when it turns replica. So the watch
asks the sentinels every :data:`SENTINEL_CHECK_SECONDS` and, when they name
another master, closes every connection of each pool to the old one, those in
use too (their commands in flight fail with a ``ConnectionError``; the next ones
go to the new master). It ends, closing its connections to the sentinels, once
no pool of its loop is open.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from typing import Any

from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.exceptions import RedisError

__all__ = ["SENTINEL_CHECK_SECONDS", "SentinelPool"]

SENTINEL_CHECK_SECONDS = 0.25
"""How often a process asks the sentinels which server is the master."""

_Deployment = tuple[str, tuple[tuple[str, int], ...], tuple[tuple[str, Any], ...]]
"""What tells one watch from another: service, sentinels, options of the connections to them."""


class SentinelPool(SentinelConnectionPool):
    """A pool of connections to the master of ``service``, as ``sentinels`` name it.

    ``asking``: the options of the connections to the sentinels (timeouts, their
    password); ``settings``: those of the connections to the master.
    """

    def __init__(
        self,
        service: str,
        sentinels: list[tuple[str, int]],
        asking: dict[str, Any],
        **settings: Any,
    ) -> None:
        # the sentinels are asked through the loop's watch, not through a manager of its own
        super().__init__(service, None, **settings)  # type: ignore[no-untyped-call]
        self.deployment: _Deployment = (
            service,
            tuple((str(host), int(port)) for host, port in sentinels),
            tuple(sorted(asking.items())),
        )

    async def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        """A connection to the master (the loop's watch follows this pool from now on)."""
        _MasterWatch.of(self.deployment).follow(self)
        return await super().get_connection(*args, **kwargs)  # type: ignore[no-untyped-call]  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]

    async def get_master_address(self) -> tuple[str, int]:
        """The master's address, as the sentinels say now (idle connections to another
        server are dropped)."""
        address = await _MasterWatch.of(self.deployment).master()
        if self.master_address != address:
            self.master_address = address
            await SentinelConnectionPool.disconnect(self, inuse_connections=False)
        return address

    async def disconnect(self, inuse_connections: bool = True) -> None:
        """Close the connections; all of them (closing the pool): no longer watched."""
        await super().disconnect(inuse_connections)
        if inuse_connections:
            _MasterWatch.release(self)


class _MasterWatch:
    """The sentinels of one deployment, as one event loop asks them."""

    @classmethod
    def of(cls, deployment: _Deployment) -> _MasterWatch:
        """The running loop's watch of ``deployment`` (made on first use)."""
        watches = _watches.setdefault(asyncio.get_running_loop(), {})
        watch = watches.get(deployment)
        if watch is None:
            watch = watches[deployment] = cls(deployment)
        return watch

    @classmethod
    def release(cls, pool: SentinelPool) -> None:
        """``pool`` was closed: the running loop's watch no longer follows it (and ends with
        the last pool it follows)."""
        watches = _watches.get(asyncio.get_running_loop(), {})
        watch = watches.get(pool.deployment)
        if watch is None:
            return
        watch._pools.discard(pool)
        if not watch._pools:
            del watches[pool.deployment]  # a pool opened from now on starts another watch
            if watch._task is not None and watch._task is not asyncio.current_task():
                watch._task.cancel()

    def __init__(self, deployment: _Deployment) -> None:
        self._deployment = deployment
        service, sentinels, asking = deployment
        self._service = service
        self._manager = Sentinel(list(sentinels), sentinel_kwargs=dict(asking))  # type: ignore[no-untyped-call]
        self._pools: weakref.WeakSet[SentinelPool] = weakref.WeakSet()
        self._asking: asyncio.Future[tuple[str, int]] | None = None
        self._task: asyncio.Task[None] | None = None

    def follow(self, pool: SentinelPool) -> None:
        """Close ``pool``'s connections to a master the sentinels replaced."""
        self._pools.add(pool)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._watch())

    async def master(self) -> tuple[str, int]:
        """The master's address, as the first sentinel that knows a healthy one says (one
        question for the clients that ask at the same time)."""
        asking = self._asking
        if asking is None or asking.done():
            asking = self._asking = asyncio.ensure_future(self._discover())
            asking.add_done_callback(_seen)
        return await asyncio.shield(asking)

    async def _discover(self) -> tuple[str, int]:
        address: Any = await self._manager.discover_master(self._service)  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
        return str(address[0]), int(address[1])  # pyright: ignore[reportUnknownArgumentType]

    async def _watch(self) -> None:
        try:
            while self._pools:
                await asyncio.sleep(SENTINEL_CHECK_SECONDS)
                named = await _master_named(self._manager, self._service)
                if named is None:
                    continue
                for pool in list(self._pools):
                    if pool.master_address not in (None, named):
                        pool.master_address = named
                        await SentinelConnectionPool.disconnect(pool, inuse_connections=True)
        finally:
            watches = _watches.get(asyncio.get_running_loop(), {})
            if watches.get(self._deployment) is self:
                del watches[self._deployment]
            with contextlib.suppress(Exception):
                await self._manager.aclose()


_watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[_Deployment, _MasterWatch]] = (
    weakref.WeakKeyDictionary()
)
"""Each event loop's watches, by deployment."""


def _seen(future: asyncio.Future[Any]) -> None:
    """Mark a shared question's error as seen (its askers may all have gone)."""
    if not future.cancelled():
        future.exception()


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
