"""Redis Cluster: every key of a hash-tagged prefix lives on one node; talk to that node.

BullMQ's Lua scripts touch many keys of a queue at once, so in a cluster all
of them must share one hash slot: a prefix with a hash tag (``{bull}``) puts
every queue of the definitions in the slot of that tag. With
``connection={"cluster": True, "host": ..., "port": ...}`` the runtime asks a
node (``CLUSTER SLOTS``) which master owns that slot and connects to it, as it
would to a single Redis. Resharding or a failover that moves the slot needs a
restart of the process (the runner exits on a lost Redis; see the README).
"""

from __future__ import annotations

import re
from typing import Any, cast

from redis import Redis
from redis.crc import key_slot
from redis.exceptions import ConnectionError as RedisConnectionError

from ..definitions.connection import ConnectionSpec, RedisConnectionOptions

__all__ = ["resolve_cluster", "slot_of_prefix"]


def slot_of_prefix(prefix: str) -> int:
    """The hash slot of every key under ``prefix`` (its hash tag decides)."""
    tag = re.search(r"\{([^{}]+)\}", prefix)
    if tag is None:
        raise ValueError(
            f"prefix {prefix!r} has no hash tag: its keys would spread over the cluster"
        )
    return key_slot(("{" + tag.group(1) + "}").encode())


def resolve_cluster(spec: ConnectionSpec, prefix: str) -> ConnectionSpec:
    """``spec`` itself, or for a cluster the same options pointed at the slot's master."""
    if isinstance(spec, str) or not spec.get("cluster"):
        return spec
    options: dict[str, Any] = {
        key: value for key, value in spec.items() if key != "cluster" and value is not None
    }
    slot = slot_of_prefix(prefix)
    seed: Any = Redis(
        **options, socket_timeout=5, decode_responses=True
    )  # redis-py types are partial
    try:
        ranges: list[Any] = seed.execute_command("CLUSTER", "SLOTS")
    finally:
        seed.close()
    for start, end, master, *_replicas in ranges:
        if int(start) <= slot <= int(end):
            options["host"] = str(master[0]) or options.get("host", "localhost")
            options["port"] = int(master[1])
            return cast("RedisConnectionOptions", options)
    raise RedisConnectionError(f"no cluster node owns slot {slot} (prefix {prefix!r})")
