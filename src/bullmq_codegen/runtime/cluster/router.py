"""The connections of one event loop to a Redis Cluster, and which node owns which slot.

The slot map is redis-py's (:class:`~redis.asyncio.cluster.RedisCluster`'s
``nodes_manager``): the same cluster client serves bullmq's own calls (its
scripts off the hot path), and its answers to ``MOVED`` and its re-reads of
``CLUSTER SLOTS`` keep the one map current for every path. The hot path
(adding, taking and completing jobs) runs on an
:class:`~..autopipeline.AutoPipeline` per master, through a
:class:`~.slot_pipeline.SlotPipeline` per queue slot; our own reads and
transactions off it on a :class:`~.slot_client.SlotClient` per slot, over the
same masters' pools.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import MovedError

from ...definitions.connection import RedisConnectionOptions
from ..autopipeline import AutoPipeline
from .blocking import SlotBlockingClient
from .nodes import node_client
from .slot_client import SlotClient
from .slot_pipeline import SlotPipeline

__all__ = ["ClusterRouter", "cluster_options"]

_log = logging.getLogger(__name__)

_NOT_FOR_CLUSTERS = ("unix_socket_path", "db", "sentinels", "service")


def cluster_options(spec: RedisConnectionOptions) -> dict[str, Any]:
    """The connection options of every node: ``spec`` without ``cluster`` (nor its seed's
    ``host``/``port``, which each node replaces)."""
    wrong = [key for key in _NOT_FOR_CLUSTERS if spec.get(key)]
    if wrong:
        raise ValueError(
            f"connection option {wrong[0]!r} does not apply to a Redis Cluster "
            "(its nodes are reached over TCP, found by asking them, and have only database 0)"
        )
    return {
        key: value
        for key, value in spec.items()
        if key not in {"cluster", "host", "port", *_NOT_FOR_CLUSTERS} and value is not None
    }


class ClusterRouter:
    """One event loop's view of a cluster: its slot map, and a connection per master."""

    def __init__(self, spec: RedisConnectionOptions) -> None:
        self._options = cluster_options(spec)
        seed_host = spec.get("host", "localhost")
        seed_port = spec.get("port", 6379)
        self.client = RedisCluster(
            host=seed_host, port=seed_port, decode_responses=True, **self._options
        )
        """The cluster client of bullmq's own calls (its scripts, reads off the hot path)."""
        self._nodes: dict[str, tuple[Redis, AutoPipeline]] = {}
        self._slots: dict[int, SlotPipeline] = {}
        self._clients: dict[int, SlotClient] = {}
        self._seed = (seed_host, seed_port)
        self._ready = False
        self._refreshing: set[asyncio.Task[None]] = set()
        self.closed = False

    def slot_pipeline(self, slot: int) -> SlotPipeline:
        """The pipeline of the commands of ``slot``."""
        pipeline = self._slots.get(slot)
        if pipeline is None:
            pipeline = self._slots[slot] = SlotPipeline(self, slot)
        return pipeline

    def slot_client(self, slot: int) -> SlotClient:
        """The plain command client of ``slot``'s commands off the hot path."""
        client = self._clients.get(slot)
        if client is None:
            client = self._clients[slot] = SlotClient(self, slot, *self._seed)
        return client

    def blocking_client(self, slot: int) -> SlotBlockingClient:
        """A blocking client connected to ``slot``'s owner (and to the next one, after a move
        or a failover)."""
        return SlotBlockingClient(self, slot)

    async def owner(self, slot: int) -> AutoPipeline:
        """The auto-pipeline of the master that owns ``slot`` now."""
        host, port = await self.owner_address(slot)
        return self.pipeline_at(host, port)

    async def owner_address(self, slot: int) -> tuple[str, int]:
        """``host``, ``port`` of the master that owns ``slot`` now (as the map says)."""
        if not self._ready:
            await self.client.initialize()
            self._ready = True
        node = self.client.nodes_manager.get_node_from_slot(slot)  # pyright: ignore[reportUnknownMemberType]
        return node.host, int(node.port)

    def pipeline_at(self, host: str, port: int) -> AutoPipeline:
        """The auto-pipeline of node ``host:port`` (opened on first use)."""
        return self._node(host, port)[1]

    def client_at(self, host: str, port: int) -> Redis:
        """The pooled command client of node ``host:port`` (the one its auto-pipeline uses)."""
        return self._node(host, port)[0]

    def _node(self, host: str, port: int) -> tuple[Redis, AutoPipeline]:
        name = f"{host}:{port}"
        entry = self._nodes.get(name)
        if entry is None:
            if self.closed:
                raise RuntimeError("the cluster connections were closed")
            client = node_client(self._options, host, port)
            entry = self._nodes[name] = (client, AutoPipeline(client))
        return entry

    def node_options(self) -> dict[str, Any]:
        """The options every node connection takes (no address)."""
        return dict(self._options)

    async def moved(self, error: MovedError) -> None:
        """``error`` names the slot's new owner: record it."""
        await self.client.nodes_manager.move_slot(error)

    async def refresh(self) -> None:
        """Read the slot map again, from any node that answers (a failover may have moved
        slots); a cluster that none answers for now is left as it was."""
        try:
            await self.client.nodes_manager.initialize()
        except Exception as error:  # the caller retries, and gives up in time
            _log.debug("re-reading the cluster's slot map failed: %s", error)

    def refresh_soon(self) -> None:
        """:meth:`refresh` in the background (once at a time)."""
        if self._refreshing or self.closed:
            return
        task = asyncio.get_running_loop().create_task(self.refresh())
        self._refreshing.add(task)
        task.add_done_callback(self._refreshing.discard)

    async def close(self) -> None:
        """Close every connection of this loop to the cluster."""
        self.closed = True
        for task in list(self._refreshing):
            task.cancel()
        for client, pipeline in self._nodes.values():
            await pipeline.close()
            with contextlib.suppress(Exception):
                await client.aclose()
        self._nodes.clear()
        with contextlib.suppress(Exception):
            await self.client.aclose()
