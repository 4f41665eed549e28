"""What the local deployments of several Redis processes share (a cluster, a Sentinel setup).

:class:`LocalDeployment` is the context manager (started on entry, every process
stopped on exit, and stopped too when the start fails half-way); :func:`wait_until`
polls the processes until they reach a state; :func:`ask` sends one command to one.
"""

from __future__ import annotations

import contextlib
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Self, cast

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

__all__ = ["LocalDeployment", "ask", "wait_until"]


class LocalDeployment(ABC):
    """Processes started by :meth:`start` and stopped, whatever happened, by :meth:`cleanup`."""

    @abstractmethod
    def start(self) -> None:
        """Start every process; return once they work together."""

    @abstractmethod
    def cleanup(self) -> None:
        """Stop every process and remove their files."""

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.cleanup()


def wait_until(ready: Callable[[], bool], timeout: float, what: str) -> None:
    """Call ``ready()`` every 0.1 s until it is true (a process that does not answer yet, or no
    longer, counts as not ready); ``TimeoutError`` naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError, RedisConnectionError, RedisTimeoutError):
            if ready():
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def ask(port: int, *command: str | int, password: str | None = None) -> Any:
    """The reply to ``command`` of the Redis server (or sentinel) on 127.0.0.1:``port``."""
    with Redis(port=port, password=password, decode_responses=True, socket_timeout=10) as client:
        return cast("Any", client.execute_command(*command))  # pyright: ignore[reportUnknownMemberType]
