"""The worker and producer processes of a run, ours and Node BullMQ's, started the same way.

Ours scale out as users run them, ``bullmq-codegen workers start`` of the
benchmark app (one queue each, ready when ``/health/ready`` answers 200); the
latency worker is ``bench.scaling.worker`` (the generated workers with a
listener that records the delays). Node's are ``node_side.js``. Every process
writes its output to a log file of the run's directory; ``ready`` on its first
line (or the health check) says its workers run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bullmq_codegen.testing import free_port

from ..harness import ROOT

__all__ = [
    "Implementation",
    "Started",
    "environment",
    "produce",
    "start_latency_worker",
    "start_workers",
    "stop",
    "wait_ready",
]

SCALING = Path(__file__).resolve().parent
DEFINITIONS = SCALING / "app" / "queue_definitions.py"
NODE_SIDE = SCALING / "node_side.js"
_JOB_OF_QUEUE = {"latencyNoop": "stampedNoop", "latencySleep": "stampedSleep"}


@dataclass(frozen=True)
class Implementation:
    """Ours or Node BullMQ, and the environment its processes get."""

    name: str
    environment: Mapping[str, str]


@dataclass
class Started:
    """One worker process."""

    process: subprocess.Popen[bytes]
    log: Path
    health_port: int | None = None

    def ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"worker process exited {self.process.returncode}: {self.tail()}")
        if self.health_port is None:
            return self.log.read_text(errors="replace").startswith("ready")
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.health_port}/health/ready", timeout=1
            ) as reply:
                return bool(reply.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:]


def _start(
    command: Sequence[str], environment: Mapping[str, str], log: Path
) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            list(command), cwd=ROOT, env=dict(environment), stdout=output, stderr=subprocess.STDOUT
        )


def start_workers(
    impl: Implementation, queues_by_process: Sequence[Sequence[str]], sleep_ms: int, logs: Path
) -> list[Started]:
    """One worker process per entry of ``queues_by_process``, each running those queues."""
    started: list[Started] = []
    for index, queues in enumerate(queues_by_process):
        log = logs / f"{impl.name}-worker-{index}.log"
        if impl.name == "node":
            command = ["node", str(NODE_SIDE), "worker", ",".join(queues), str(sleep_ms)]
            started.append(Started(_start(command, impl.environment, log), log))
        else:
            port = free_port()
            command = [sys.executable, "-m", "bullmq_codegen", "workers", "start"]
            command += ["-c", str(DEFINITIONS), "--health-port", str(port)]
            for queue in queues:
                command += ["--queue", queue]
            started.append(Started(_start(command, impl.environment, log), log, port))
    return started


def start_latency_worker(
    impl: Implementation, queue: str, sleep_ms: int, samples: Path, logs: Path
) -> Started:
    """The worker process that records the stamped jobs' delays into ``samples``."""
    log = logs / f"{impl.name}-latency-worker.log"
    if impl.name == "node":
        command = ["node", str(NODE_SIDE), "worker", queue, str(sleep_ms), str(samples)]
    else:
        command = [sys.executable, "-m", "bench.scaling.worker", queue, str(samples)]
    return Started(_start(command, impl.environment, log), log)


def wait_ready(workers: Sequence[Started], timeout: float = 120) -> None:
    """Until every process's workers run."""
    deadline = time.monotonic() + timeout
    waiting = list(workers)
    while waiting:
        waiting = [worker for worker in waiting if not worker.ready()]
        if time.monotonic() > deadline:
            raise RuntimeError(f"workers not ready after {timeout} s: {waiting[0].tail()}")
        time.sleep(0.05)


def stop(workers: Sequence[Started], timeout: float = 60) -> None:
    """SIGTERM every process (a graceful close), then wait; kill what does not exit."""
    for worker in workers:
        if worker.process.poll() is None:
            worker.process.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.process.wait(timeout)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()


def produce(
    impl: Implementation, queue: str, rate: float, seconds: float, phase: int
) -> dict[str, Any]:
    """Run the steady-rate producer to its end; its JSON line."""
    if impl.name == "node":
        command = ["node", str(NODE_SIDE), "produce", queue, _JOB_OF_QUEUE[queue]]
    else:
        command = [sys.executable, "-m", "bench.scaling.producer", queue]
    command += [f"{rate:.1f}", str(seconds), str(phase)]
    completed = subprocess.run(
        command,
        cwd=ROOT,
        env=dict(impl.environment),
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"producer failed: {completed.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def environment(
    redis_url: str, prefix: str, node_modules: Path | None, concurrency: int
) -> dict[str, str]:
    """The processes' environment: the benchmark's Redis and prefix, Node's workers'
    concurrency (ours is in the definitions), quiet logs."""
    result = {
        **{key: value for key, value in os.environ.items() if not key.startswith("WORKER_")},
        "BENCH_REDIS_URL": redis_url,
        "BENCH_PREFIX": prefix,
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "WARNING",
        "BENCH_CONCURRENCY": str(concurrency),
    }
    if node_modules is not None:
        result["NODE_PATH"] = str(node_modules)
    return result
