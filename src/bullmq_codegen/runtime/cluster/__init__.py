"""Redis Cluster: each queue's commands go to the master that owns its hash slot.

With ``connection={"cluster": True, "host": ..., "port": ...}`` (any node as
the seed), a queue's keys share one slot (the queue's hash-tagged name, or a
hash-tagged prefix for all queues: see :meth:`QueueConfig.redis_name`), and a
:class:`ClusterRouter` per event loop sends them to that slot's master,
following ``MOVED`` / ``ASK`` and failovers without a restart.
"""

from __future__ import annotations

from ...definitions.connection import ConnectionSpec
from .blocking import SlotBlockingClient, SlotMovedError
from .nodes import NodeUnreachable
from .router import ClusterRouter, cluster_options
from .slot_client import SlotClient
from .slot_pipeline import FAILOVER_PATIENCE, SlotPipeline

__all__ = [
    "FAILOVER_PATIENCE",
    "ClusterRouter",
    "NodeUnreachable",
    "SlotBlockingClient",
    "SlotClient",
    "SlotMovedError",
    "SlotPipeline",
    "cluster_options",
    "is_cluster",
]


def is_cluster(spec: ConnectionSpec) -> bool:
    """Whether connection ``spec`` names a Redis Cluster (``cluster`` set in its options)."""
    return not isinstance(spec, str) and bool(spec.get("cluster"))
