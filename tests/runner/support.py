"""Running ``bullmq-codegen workers start`` in a child process, as production does."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from redis.asyncio import Redis

from bullmq_codegen import Job
from bullmq_codegen.runner import WorkerRunner
from bullmq_codegen.runtime import JobRoute

from ..helpers import eventually


async def quick(job: Job[None]) -> str:
    """A no-op processor: the job's id is its result."""
    return job.id


ROUTES = (
    JobRoute(queue="a", name="quickA", schema=None, processor=quick),
    JobRoute(queue="b", name="quickB", schema=None, processor=quick),
)
"""The routes of the ``runtime`` fixture's two queues."""


class RunnerProcess:
    """A runner child process with its log in a file."""

    def __init__(
        self,
        root: Path,
        env: dict[str, str],
        *args: str,
        name: str = "runner",
        config: str | None = "ops/jobs.py",
    ) -> None:
        """``workers start`` in ``root`` with ``args``; ``config`` ``None``: the project's."""
        self.log_path = root / f"{name}-{time.monotonic_ns()}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bullmq_codegen",
                "workers",
                "start",
                *(("--config", config) if config is not None else ()),
                *args,
            ],
            cwd=root,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def signal(self, signum: int = signal.SIGTERM) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float = 60) -> int:
        try:
            return self.process.wait(timeout)
        finally:
            self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._log.close()

    async def started(self, timeout: float = 30, *, queues: tuple[str, ...] = ("work",)) -> None:
        """Once the workers of ``queues`` run (the ops case's ``work`` by default)."""

        async def ready() -> bool:
            assert self.process.poll() is None, self.log
            return all(f"worker {queue}: running" in self.log for queue in queues)

        await eventually(ready, timeout=timeout)


def child_env(**extra: str) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("WORKER_")}
    environment.update({"LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1", **extra})
    return environment


class Records:
    """The starts and finishes the ops jobs pushed (``job id:pid`` each)."""

    def __init__(self, client: Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    async def starts(self) -> list[str]:
        return [
            tag.split(":")[0]
            for tag in await self.client.lrange(f"{self.prefix}:test:starts", 0, -1)
        ]

    async def finishes(self) -> list[str]:
        return [
            tag.split(":")[0]
            for tag in await self.client.lrange(f"{self.prefix}:test:finishes", 0, -1)
        ]

    async def finished_count(self) -> int:
        return int(await self.client.llen(f"{self.prefix}:test:finishes"))

    async def selectors(self) -> list[str]:
        """The selector class of each event loop that ran a job."""
        return list(await self.client.lrange(f"{self.prefix}:test:selectors", 0, -1))


def http_get(port: int, path: str) -> tuple[int, dict[str, object] | str]:
    """``GET path`` of the health server on ``port``: the status and the JSON (or text) body."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            body = response.read().decode()
            status = response.status
    except urllib.error.HTTPError as error:
        body, status = error.read().decode(), error.code
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


async def kill_worker(runner: WorkerRunner, queue: str) -> None:
    """Kill the main task of ``queue``'s worker, as a crash would. On Python 3.11 a cancellation
    that lands as a redis-py write finishes is lost (``asyncio.wait_for`` swallows it; fixed in
    3.12), so cancel until it is dead."""
    main = runner.groups[queue].workers[queue]._main  # pyright: ignore[reportPrivateUsage]
    assert main is not None
    while not main.done():
        main.cancel()
        await asyncio.wait({main}, timeout=0.05)


async def workers_running(runner: WorkerRunner, *queues: str) -> bool:
    """Whether the in-process runner's workers of ``queues`` all run."""
    states = runner.worker_states()
    return all(states.get(queue, {}).get("state") == "running" for queue in queues)
