"""A Redis Sentinel deployment of one's own, for tests: a master, its replicas and sentinels.

Every process is a ``redis-server`` (sentinels run it with ``--sentinel``, as
Debian's ``redis-sentinel`` does) on a free port of 127.0.0.1, in a temporary
directory, stopped on exit. The sentinels notice a dead master after
``down_after_ms`` and promote a replica (an election that fails is tried again after
twice ``failover_timeout_ms``); :meth:`SentinelDeployment.failover` asks
for a failover as ``SENTINEL FAILOVER`` does, :meth:`SentinelDeployment.kill_master`
kills the master as a crash would.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import cast

from ..runtime.resp import hash_reply
from .deployment import LocalDeployment, ask, wait_until
from .redis_server import RedisServer, RedisUnavailableError, find_redis_server, free_port

__all__ = ["SentinelDeployment"]


class SentinelDeployment(LocalDeployment):
    """One master, ``replicas`` replicas and ``sentinels`` sentinels watching it as ``service``."""

    def __init__(
        self,
        executable: str | None = None,
        *,
        service: str = "mymaster",
        replicas: int = 1,
        sentinels: int = 3,
        down_after_ms: int = 1000,
        password: str | None = None,
        sentinel_password: str | None = None,
        failover_timeout_ms: int = 4_000,
    ) -> None:
        found = find_redis_server() if executable is None else (executable, executable)
        if found is None:
            raise RedisUnavailableError("no redis-server to run Redis Sentinel with")
        self.executable = found[0]
        self.service = service
        self.down_after_ms = down_after_ms
        self.password = password
        """The servers' ``requirepass`` (and their replicas' ``masterauth``), when given."""
        self.sentinel_password = sentinel_password
        """The sentinels' ``requirepass`` (and ``sentinel-pass`` among them), when given."""
        self.failover_timeout_ms = failover_timeout_ms
        self.directory = Path(tempfile.mkdtemp(prefix="bullmq-codegen-sentinel-"))
        self._replica_count = replicas
        self._sentinel_count = sentinels
        self.servers: list[RedisServer] = []
        """The master and replicas, as started (which is master changes with failovers)."""
        self.sentinels: list[RedisServer] = []

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """``(host, port)`` of each sentinel, as the ``sentinels`` connection option wants."""
        return [("127.0.0.1", sentinel.port) for sentinel in self.sentinels]

    def start(self, timeout: float = 30.0) -> None:
        """Start every process; return once each sentinel knows the master, its replicas and
        the other sentinels (a failover needs them all)."""
        master = self._server("master", [])
        master.start()
        self.servers.append(master)
        for index in range(self._replica_count):
            replica = self._server(
                f"replica{index}", ["--replicaof", "127.0.0.1", str(master.port)]
            )
            replica.start()
            self.servers.append(replica)
        for index in range(self._sentinel_count):
            directory = self.directory / f"sentinel{index}"
            directory.mkdir()
            config = directory / "sentinel.conf"
            config.write_text(
                f"sentinel monitor {self.service} 127.0.0.1 {master.port} "
                f"{self._sentinel_count // 2 + 1}\n"
                f"sentinel down-after-milliseconds {self.service} {self.down_after_ms}\n"
                f"sentinel failover-timeout {self.service} {self.failover_timeout_ms}\n"
                f"sentinel parallel-syncs {self.service} 1\n"
                + (f"sentinel auth-pass {self.service} {self.password}\n" if self.password else "")
                + (
                    f"requirepass {self.sentinel_password}\n"
                    f"sentinel sentinel-pass {self.sentinel_password}\n"
                    if self.sentinel_password
                    else ""
                )
            )
            sentinel = RedisServer(
                self.executable,
                directory=directory,
                config_file=config,
                extra_args=["--sentinel"],
            )
            sentinel.start()
            self.sentinels.append(sentinel)
        wait_until(self._complete, timeout, "the sentinels to see each other and the replicas")
        self.wait_replicating(timeout)  # a replica promoted before its first sync has nothing

    def _server(self, name: str, extra_args: list[str]) -> RedisServer:
        directory = self.directory / name
        directory.mkdir()
        # a replica's first sync (and its resync after a failover) starts at once, not 5 s later
        no_delay = ["--repl-diskless-sync-delay", "0"]
        auth = (
            ["--requirepass", self.password, "--masterauth", self.password] if self.password else []
        )
        return RedisServer(
            self.executable,
            port=free_port(),
            directory=directory,
            extra_args=no_delay + auth + extra_args,
        )

    def _ask(self, sentinel: RedisServer, *command: str) -> object:
        return ask(sentinel.port, *command, password=self.sentinel_password)

    def _complete(self) -> bool:
        for sentinel in self.sentinels:
            state = self._ask(sentinel, "SENTINEL", "MASTER", self.service)
            fields = hash_reply(state)
            if int(fields.get("num-other-sentinels", 0)) < self._sentinel_count - 1:
                return False
            if int(fields.get("num-slaves", 0)) < self._replica_count:
                return False
        return True

    def master_port(self) -> int:
        """The port of the master, as the first sentinel that answers says."""
        for sentinel in self.sentinels:
            if not sentinel.running:
                continue
            reply = self._ask(sentinel, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.service)
            if isinstance(reply, list) and len(reply) == 2:  # pyright: ignore[reportUnknownArgumentType]
                return int(str(reply[1]))  # pyright: ignore[reportUnknownArgumentType]
        raise RedisUnavailableError(f"no sentinel knows the master of {self.service!r}")

    def master(self) -> RedisServer:
        """The server the sentinels name as master."""
        port = self.master_port()
        return next(server for server in self.servers if server.port == port)

    def failover(self, timeout: float = 60.0) -> int:
        """Have the sentinels promote a replica (``SENTINEL FAILOVER``); the new master's port,
        once a replica has taken the role."""
        before = self.master_port()
        self._ask(self.sentinels[0], "SENTINEL", "FAILOVER", self.service)
        return self._await_new_master(before, timeout)

    def kill_master(self, timeout: float = 60.0) -> int:
        """Kill the master (SIGKILL); the new master's port, once the sentinels promoted one."""
        old = self.master()
        old.kill()
        return self._await_new_master(old.port, timeout)

    def wait_replicating(self, timeout: float = 60.0) -> None:
        """Wait until every live server but the master replicates the master, in sync.

        After ``SENTINEL FAILOVER`` the old master goes on as a master (taking writes)
        for some seconds before the sentinels turn it into a replica, which drops them.
        """
        wait_until(self._replicating, timeout, "every server to replicate the master")

    def _replicating(self) -> bool:
        port = self.master_port()
        for server in self.servers:
            if server.running and server.port != port:
                info = cast(
                    "dict[str, object]",
                    ask(server.port, "INFO", "replication", password=self.password),
                )
                if (info.get("role"), info.get("master_port"), info.get("master_link_status")) != (
                    "slave",
                    port,
                    "up",
                ):
                    return False
        return True

    def _await_new_master(self, old_port: int, timeout: float) -> int:
        wait_until(
            lambda: self.master_port() != old_port and self._is_master(self.master_port()),
            timeout,
            f"a replica to take over from the master on port {old_port}",
        )
        return self.master_port()

    def _is_master(self, port: int) -> bool:
        role = cast("list[object]", ask(port, "ROLE", password=self.password))
        return role[0] == "master"

    def cleanup(self) -> None:
        """Stop every process and remove the temporary directory."""
        for process in [*self.sentinels, *self.servers]:
            process.cleanup()
        shutil.rmtree(self.directory, ignore_errors=True)
