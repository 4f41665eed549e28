"""Checks of the Redis a production worker runs against (warnings, never refusals)."""

from __future__ import annotations

from typing import Any

from ..runtime.cluster import is_cluster
from ..runtime.registry import Runtime
from ..runtime.resp import pack

__all__ = ["production_checks"]


def _fields(info: Any) -> dict[str, str]:
    """``INFO``'s ``key:value`` lines as a dict."""
    text = info.decode() if isinstance(info, bytes) else str(info)
    pairs = (
        line.split(":", 1) for line in text.splitlines() if ":" in line and not line.startswith("#")
    )
    return {key: value.strip() for key, value in pairs}


async def production_checks(runtime: Runtime, *, production: bool) -> list[str]:
    """Warnings about Redis settings that lose jobs: eviction, (in production) no AOF, and a
    cluster node reached by a connection that is not a cluster connection."""
    pipeline = runtime.context(next(iter(runtime.config.queues))).pipeline
    warnings: list[str] = []
    try:
        memory = _fields(await pipeline.execute(pack("INFO", "memory")))
        persistence = _fields(await pipeline.execute(pack("INFO", "persistence")))
        cluster = _fields(await pipeline.execute(pack("INFO", "cluster")))
    except Exception as error:  # INFO disabled on some managed Redis: say so, go on
        return [f"could not read Redis INFO ({error}): check maxmemory-policy yourself"]
    if cluster.get("cluster_enabled") == "1" and not is_cluster(runtime.config.connection):
        warnings.append(
            "Redis is a Redis Cluster node but the definitions' connection does not say so: "
            'set "cluster": True in it, so that the workers follow the cluster\'s slots '
            "(without it, a queue whose slot another node serves fails with MOVED)"
        )
    policy = str(memory.get("maxmemory_policy", "unknown"))
    if policy != "noeviction":
        warnings.append(
            f"Redis maxmemory-policy is {policy!r}: under memory pressure Redis may evict job keys; "
            "BullMQ needs 'noeviction' (redis-cli CONFIG SET maxmemory-policy noeviction)"
        )
    if production and str(persistence.get("aof_enabled", "0")) != "1":
        warnings.append(
            "Redis append-only file (AOF) is off: a Redis restart loses the jobs added since the last "
            "snapshot (redis-server --appendonly yes --appendfsync everysec)"
        )
    return warnings
