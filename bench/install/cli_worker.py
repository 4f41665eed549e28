"""Workers as a user runs them, ``bullmq-codegen workers start``, measured from outside.

Throughput: the queue is filled first with the generated bulk producer (not
timed); the worker process is started, and Redis's count of jobs left
(``wait`` plus ``active``) is read every few milliseconds: the rate is over the
middle 90% of the drain, so the process's start (imports, connecting) is left
out, as the suite's in-process runs leave it out. The worker process's CPU time
over the same window comes from ``/proc``.

Idle memory: the process's RSS 2 s after its workers' connections show in
``CLIENT LIST`` (as the suite's in-process run reads it 2 s after starting).
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from redis import Redis

from .venvs import Venv

__all__ = ["idle_rss", "worker_rate"]

QUEUE = "noopC10"
"""The no-op worker at concurrency 10 of the benchmark application."""
IDLE_QUEUES = ("emailSend", "pings")
"""The suite's idle worker: two queues."""

_FILL = (
    "import asyncio, sys\n"
    "from bench.app.queues.generated import close_connections, enqueue_noop_c10_job_bulk\n"
    "async def fill(count):\n"
    "    for start in range(0, count, 1000):\n"
    "        await enqueue_noop_c10_job_bulk(min(1000, count - start))\n"
    "    await close_connections()\n"
    "asyncio.run(fill(int(sys.argv[1])))\n"
)


def _proc_status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def _workers_start(
    venv: Venv, app: Path, env: dict[str, str], queues: tuple[str, ...]
) -> Iterator[subprocess.Popen[str]]:
    """``bullmq-codegen workers start`` of ``queues``; stopped with SIGTERM, exit 0 expected."""
    selection = [arg for queue in queues for arg in ("--queue", queue)]
    worker = subprocess.Popen(
        [venv.bin("bullmq-codegen"), "workers", "start", *selection, "--log-level", "WARNING"],
        cwd=app,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield worker
    finally:
        worker.send_signal(signal.SIGTERM)
        _, errors = worker.communicate(timeout=60)
    if worker.returncode != 0:
        raise RuntimeError(f"workers start exited {worker.returncode}:\n{errors[-3000:]}")


def _wait(worker: subprocess.Popen[str], deadline: float, what: str) -> None:
    if worker.poll() is not None:
        raise RuntimeError(f"workers start exited {worker.returncode} before {what}")
    if time.monotonic() > deadline:
        raise RuntimeError(f"no {what} in 300 s")
    time.sleep(0.002)


def worker_rate(venv: Venv, app: Path, url: str, prefix: str, jobs: int) -> dict[str, Any]:
    """Jobs/s and the worker's CPU µs per job, over the middle 90% of draining ``jobs``."""
    env = venv.env(BENCH_REDIS_URL=url, BENCH_PREFIX=prefix)
    subprocess.run(
        [venv.bin("python"), "-c", _FILL, str(jobs)], cwd=app, env=env, check=True, timeout=300
    )
    keys = [f"{prefix}:{QUEUE}:wait", f"{prefix}:{QUEUE}:active"]
    first, last = jobs - jobs // 20, jobs // 20
    with Redis.from_url(url) as redis:

        def left() -> int:
            with redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.llen(key)
                return sum(pipe.execute())

        if left() != jobs:
            raise RuntimeError(f"the queue holds {left()} jobs, not {jobs}")
        with _workers_start(venv, app, env, (QUEUE,)) as worker:
            deadline = time.monotonic() + 300
            while (at := left()) > first:
                _wait(worker, deadline, "draining")
            started, cpu = time.perf_counter(), _cpu_seconds(worker.pid)
            while (remaining := left()) > last:
                _wait(worker, deadline, "the end of the drain")
            wall = time.perf_counter() - started
            cpu = _cpu_seconds(worker.pid) - cpu
    done = at - remaining
    return {
        "jobs": done,
        "wall": wall,
        "jobs_per_s": done / wall,
        "worker_cpu_us_per_job": cpu / done * 1e6,
    }


def idle_rss(venv: Venv, app: Path, url: str, prefix: str) -> dict[str, Any]:
    """The RSS of an idle ``workers start`` process of two queues."""
    env = venv.env(BENCH_REDIS_URL=url, BENCH_PREFIX=prefix)
    names = {f"{prefix}:{base64.b64encode(queue.encode()).decode()}:w:" for queue in IDLE_QUEUES}
    with (
        Redis.from_url(url, decode_responses=True) as redis,
        _workers_start(venv, app, env, IDLE_QUEUES) as worker,
    ):
        deadline = time.monotonic() + 300
        while not all(
            any(client["name"].startswith(name) for client in redis.client_list()) for name in names
        ):
            _wait(worker, deadline, "worker connections")
        time.sleep(2)
        rss_kib = _proc_status(worker.pid, "VmRSS")
    return {"rss_mib": rss_kib / 1024}
