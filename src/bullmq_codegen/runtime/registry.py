"""The connections of generated code: created lazily, once per event loop, closed in one call.

Generated modules build one :class:`Runtime` at import, which does no I/O.
The first use on an event loop opens a pooled client for that loop; a second
``asyncio.run`` (or a pytest-asyncio test with its own loop) gets its own, so
clients never cross loops (the cause of redis-py's "attached to a different
loop" errors).

This module imports redis-py, the auto-pipeline, the cluster router and the
event reader only then, on a loop's first use, not when generated code imports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncGenerator, Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..definitions.config import QueueConfig
from ..definitions.connection import ConnectionSpec
from .client_names import events_client_name
from .connection import blocking_client, command_client
from .health import WorkerHealthReport, read_health
from .queue_context import QueueContext, load_scripts

if TYPE_CHECKING:
    from bullmq.redis_connection import RedisConnection
    from redis.asyncio import Redis
    from redis.asyncio.cluster import RedisCluster

    from .autopipeline import AutoPipeline
    from .cluster import ClusterRouter
    from .events import EventReader
    from .group import WorkerGroup
    from .queue import QueueHandle
    from .routes import JobRoute
    from .worker.events import WorkerListener

__all__ = ["Runtime"]


@dataclass(slots=True)
class _LoopResources:
    client: Redis | RedisCluster
    scripts: RedisConnection
    pipeline: AutoPipeline | None
    """The loop's auto-pipeline to a single Redis (``None`` on a cluster: ``router``'s)."""
    router: ClusterRouter | None
    contexts: dict[str, QueueContext] = field(default_factory=dict[str, QueueContext])
    groups: set[WorkerGroup] = field(default_factory=set["WorkerGroup"])
    readers: dict[str, EventReader] = field(default_factory=dict[str, "EventReader"])


class Runtime:
    """Queues and workers of one :class:`QueueConfig`, with their connections per event loop."""

    def __init__(self, config: QueueConfig) -> None:
        self.config = config
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopResources] = (
            weakref.WeakKeyDictionary()
        )

    def queue(self, name: str) -> QueueHandle:
        """The handle of queue ``name`` (no I/O: it connects on first use)."""
        from .queue import QueueHandle

        self.config.served_queue(name)  # refuse an unknown name now, with the known ones
        return QueueHandle(self, name)

    def workers(
        self,
        routes: Sequence[JobRoute[Any, Any, Any]],
        *,
        queues: Collection[str] = (),
        workers: Collection[str] = (),
        listeners: Sequence[WorkerListener] = (),
        heartbeat_interval: float = 10.0,
        exact: bool = False,
    ) -> WorkerGroup:
        """Workers for ``routes`` (all of them, or the queues and workers named); not started.

        Each publishes a heartbeat every ``heartbeat_interval`` seconds (see
        :meth:`worker_health`). ``exact``: only the queues named, not also the
        former queues that their moved job names drain (see :func:`.group.select_routes`).
        """
        from .group import WorkerGroup

        return WorkerGroup(
            self,
            routes,
            queues=queues,
            workers=workers,
            listeners=listeners,
            heartbeat_interval=heartbeat_interval,
            exact=exact,
        )

    async def worker_health(self, queues: Collection[str] = ()) -> WorkerHealthReport:
        """Which workers are alive per queue, from their heartbeats in Redis.

        Needs no worker in this process: an API process can serve it as its
        ``/health/workers``.
        """
        names = list(queues) or sorted(self.config.queues)
        for name in names:
            self.config.served_queue(name)
        return await read_health(self.context(name) for name in names)

    def context(self, queue: str) -> QueueContext:
        """bullmq's view of ``queue`` on the running loop, for adding and inspecting jobs."""
        contexts = self._resources().contexts
        if queue not in contexts:
            contexts[queue] = self.worker_context(queue, {})
        return contexts[queue]

    def worker_context(self, queue: str, opts: dict[str, Any]) -> QueueContext:
        """A fresh view of ``queue`` whose ``opts`` bullmq's scripts read (a worker's settings)."""
        resources = self._resources()
        redis_name = self.config.redis_name(queue)
        client: Redis | None = None
        if resources.router is None:
            pipeline = resources.pipeline
            assert pipeline is not None  # one or the other
        else:
            slot = self._slot(redis_name)
            pipeline = resources.router.slot_pipeline(slot)
            client = resources.router.slot_client(slot)
        return QueueContext(
            name=queue,
            redis_name=redis_name,
            prefix=self.config.prefix,
            scripts=resources.scripts,
            pipeline=pipeline,
            opts=opts,
            client=client,
        )

    def blocking_client(self, queue: str) -> Redis:
        """A connection of its own for a blocking wait on ``queue``'s keys (a worker's, an
        event reader's): to the Redis, or to the master that owns the queue's slot."""
        router = self._resources().router
        if router is None:
            return blocking_client(self.connection())
        return router.blocking_client(self._slot(self.config.redis_name(queue)))

    def _slot(self, redis_name: str) -> int:
        """The hash slot of every key of the queue named ``redis_name`` in Redis."""
        from redis.crc import key_slot

        return key_slot(f"{self.config.prefix}:{redis_name}:".encode())

    def events(self, queue: str) -> EventReader:
        """The reader of ``queue``'s event stream on the running loop (one per queue and loop,
        on a connection of its own, opened when something first waits or listens)."""
        resources = self._resources()
        reader = resources.readers.get(queue)
        if reader is None:
            from .events import EventReader

            keys = self.context(queue).keys
            reader = EventReader(
                queue=queue,
                stream=keys["events"],
                connect=lambda: self.blocking_client(queue),
                # as Node names it
                client_name=events_client_name(self.config.prefix, self.config.redis_name(queue)),
            )
            resources.readers[queue] = reader
        return reader

    def connection(self) -> ConnectionSpec:
        """Where this runtime's clients connect (for a Redis Cluster: its seed node)."""
        return self.config.connection

    def register(self, group: WorkerGroup) -> None:
        """Close ``group`` with the connections of the running loop."""
        self._resources().groups.add(group)

    def unregister(self, group: WorkerGroup) -> None:
        """``group`` closed itself: forget it."""
        resources = self._loops.get(asyncio.get_running_loop())
        if resources is not None:
            resources.groups.discard(group)

    async def close(self) -> None:
        """Close every worker and connection opened on the running loop.

        Workers close gracefully (running jobs finish). Later use opens new
        connections, so closing between tests or ``asyncio.run`` calls is safe.
        """
        loop = asyncio.get_running_loop()
        resources = self._loops.pop(loop, None)
        if resources is None:
            return
        for group in list(resources.groups):
            await group.close()
        resources.groups.clear()
        for reader in resources.readers.values():
            await reader.close()
        if resources.pipeline is not None:
            await resources.pipeline.close()
        if resources.router is not None:
            await resources.router.close()  # its client too
            return
        with contextlib.suppress(Exception):
            await resources.client.aclose()

    def _resources(self) -> _LoopResources:
        loop = asyncio.get_running_loop()
        resources = self._loops.get(loop)
        if resources is None:
            from .autopipeline import AutoPipeline
            from .cluster import ClusterRouter, is_cluster

            for other in [other for other in self._loops if other.is_closed()]:
                del self._loops[other]  # its sockets died with it
            spec = self.connection()
            if is_cluster(spec):
                assert not isinstance(spec, str)  # options, by is_cluster
                router = ClusterRouter(spec)
                resources = _LoopResources(
                    client=router.client,
                    scripts=load_scripts(router.client),
                    pipeline=None,
                    router=router,
                )
            else:
                client = command_client(spec)
                resources = _LoopResources(
                    client=client,
                    scripts=load_scripts(client),
                    pipeline=AutoPipeline(client),
                    router=None,
                )
            self._loops[loop] = resources
        return resources

    @contextlib.asynccontextmanager
    async def redirected(
        self, *, connection: ConnectionSpec, prefix: str
    ) -> AsyncGenerator[Runtime]:
        """Use ``connection`` and key prefix ``prefix`` instead of the config's, until the block ends.

        For tests: generated code (producers, queues, workers) then reaches
        another Redis, or the same one under a prefix of its own, without
        regenerating anything. The config object is left as it is: the runtime
        holds a copy with the new connection and prefix meanwhile.

        Connections already open stay open, set aside and back in use after the
        block; inside it, every loop opens new ones. On exit, the workers and
        connections opened inside the block on the running loop are closed, so
        nothing crosses from one to the other. Blocks nest, and must end in
        reverse order.
        """
        saved = (self.config, self._loops)
        redirected = replace(self.config, connection=connection, prefix=prefix)
        self.config = redirected
        self._loops = weakref.WeakKeyDictionary()
        try:
            yield self
        finally:
            if self.config is not redirected:
                raise RuntimeError(
                    "Runtime.redirected() blocks must end in reverse order of their start"
                )
            await self.close()
            self.config, self._loops = saved
