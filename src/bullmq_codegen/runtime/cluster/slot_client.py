"""A queue's plain command client on a cluster: a ``Redis`` whose commands go to its slot's
master.

Code off the hot path reads a queue with ``ctx.client`` (``HGETALL`` of a job,
``GET`` of a deduplication key) and sometimes runs a transaction on it with a
script inside (``ctx.client.pipeline(transaction=True)``), which redis-py's
``RedisCluster`` refuses. :class:`SlotClient` is a plain ``Redis`` over the
pool of whichever master owns the queue's slot now (the router's node
clients' pools, so a command that could not be sent is told apart, as on the
hot path): each command looks the owner up, and what the cluster answers
instead of running it (``MOVED``, ``ASK``, ``TRYAGAIN``, ``CLUSTERDOWN``, an
unreachable master) is followed as :class:`~.slot_pipeline.SlotPipeline`
follows it. A pipeline goes, whole, to the owner at the time it executes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from .slot_pipeline import Attempts

if TYPE_CHECKING:
    from .router import ClusterRouter

__all__ = ["SlotClient"]


class SlotClient(Redis):
    """Commands of one hash slot, on the pool of the master that owns it."""

    def __init__(self, router: ClusterRouter, slot: int, host: str, port: int) -> None:
        # starts on the pool of host:port (the seed); each command moves it to the owner's
        super().__init__(connection_pool=router.client_at(host, port).connection_pool)  # pyright: ignore[reportUnknownMemberType]
        self.auto_close_connection_pool = False  # the router's pools: it closes them
        self._router = router
        self._slot = slot

    async def point_at_owner(self) -> None:
        """Use the pool of the master that owns the slot now."""
        host, port = await self._router.owner_address(self._slot)
        self.connection_pool = self._router.client_at(host, port).connection_pool

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        """Run a command on the slot's owner, following the cluster's redirections."""
        attempts = Attempts(self._router)
        while True:
            try:
                await self.point_at_owner()
                return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
            except Exception as error:  # each kind is handled by after()
                await attempts.after(error, ask_waits=True)

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> Pipeline:
        """A pipeline that runs, whole, on the slot's owner when it executes."""
        return _SlotClientPipeline(self, transaction, shard_hint)


class _SlotClientPipeline(Pipeline):
    def __init__(self, client: SlotClient, transaction: bool, shard_hint: str | None) -> None:
        super().__init__(  # pyright: ignore[reportUnknownMemberType]
            client.connection_pool, client.response_callbacks, transaction, shard_hint
        )
        self._owner = client

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        if self.connection is None:  # not WATCHing on a connection already
            await self._owner.point_at_owner()
            self.connection_pool = self._owner.connection_pool
        return await super().execute(raise_on_error)
