"""Running the scenarios: each measurement in a fresh process, implementations interleaved.

Every round runs every scenario once per implementation, in a rotating order,
against one throwaway redis-server (flushed between measurements), so raw
bullmq-py, the generated code and Node BullMQ share the same Redis and the
same machine state. Results are medians with min-max over the rounds.

Python runs with a bytecode cache of their own (``PYTHONPYCACHEPREFIX``, a temporary
directory for the run; ``PYTHONDONTWRITEBYTECODE`` is dropped from the environment), as
an installed application runs: import times and memory are then a user's, not those of
a process compiling every module it imports. A scenario with ``warm_up`` runs each
command once, unmeasured, before its first measured run, so its cache is warm from the
first round.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bullmq_codegen.testing import RedisServer, find_redis_server
from bullmq_codegen.testing.node import NODE_BULLMQ, node_bullmq

from .workloads.redis_cost import redis_cost

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

Command = list[str]


@dataclass(frozen=True)
class Scenario:
    """One comparison: the same work done by each implementation."""

    name: str
    label: str
    metric: str
    """The key of the headline number in each run's result (higher is better unless noted)."""
    commands: dict[str, Command]
    """Implementation → the command that runs it once and prints a JSON line."""
    lower_is_better: bool = False
    unit: str = "jobs/s"
    warm_up: bool = False
    """Run each command once, unmeasured, before its first measured run (import time and
    memory: what is measured is a warm bytecode cache's, not compiling)."""


@dataclass
class Results:
    """Every run's JSON, by scenario and implementation."""

    runs: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    failures: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def add(self, scenario: str, impl: str, result: dict[str, Any]) -> None:
        self.runs.setdefault(scenario, {}).setdefault(impl, []).append(result)

    def fail(self, scenario: str, impl: str, reason: str) -> None:
        """A run that crashed or hung: kept out of the medians, counted and reported."""
        self.failures.setdefault(scenario, {}).setdefault(impl, []).append(reason)

    def failed(self, scenario: str, impl: str) -> int:
        return len(self.failures.get(scenario, {}).get(impl, []))

    def values(self, scenario: str, impl: str, key: str) -> list[float]:
        return [float(run[key]) for run in self.runs.get(scenario, {}).get(impl, []) if key in run]

    def summary(self, scenario: str, impl: str, key: str) -> dict[str, float] | None:
        values = self.values(scenario, impl, key)
        if not values:
            return None
        return {
            "median": statistics.median(values),
            "min": min(values),
            "max": max(values),
            "n": len(values),
        }


def with_rates(result: dict[str, Any]) -> dict[str, Any]:
    """Add jobs/s and CPU µs per job to a run that reports jobs, wall and cpu; Redis's own
    cost per job to one that reports Redis's INFO before and after (``redis_cost``)."""
    if {"jobs", "wall", "cpu"} <= result.keys():
        result["jobs_per_s"] = result["jobs"] / result["wall"]
        result["cpu_us_per_job"] = result["cpu"] / result["jobs"] * 1e6
    if {"redis_before", "redis_after"} <= result.keys():
        result.update(
            redis_cost(result.pop("redis_before"), result.pop("redis_after"), result["jobs"])
        )
    return result


def environment_info(redis_executable: str, node: Path | None) -> dict[str, Any]:
    """What the numbers were measured on."""

    def version(command: Sequence[str]) -> str:
        try:
            return subprocess.run(
                command, capture_output=True, text=True, check=False
            ).stdout.strip()
        except OSError:
            return "absent"

    try:
        import hiredis  # type: ignore[import-not-found,unused-ignore]  # pyright: ignore[reportMissingImports]

        hiredis_version = str(getattr(hiredis, "__version__", "installed"))
    except ImportError:
        hiredis_version = "absent"
    import bullmq
    import redis

    return {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "bullmq_py": bullmq.__version__,
        "redis_py": redis.__version__,
        "hiredis": hiredis_version,
        "redis_server": version([redis_executable, "--version"]).split(" sha=")[0],
        "node": version(["node", "--version"]) if node else "absent",
        "node_bullmq": NODE_BULLMQ if node else "absent",
    }


class Runner:
    """Runs commands against one throwaway Redis, flushed between runs."""

    def __init__(self, log: Callable[[str], None]) -> None:
        found = find_redis_server()
        if found is None:
            raise SystemExit("redis-server is needed for the benchmarks (./dev installs it)")
        self.redis_executable = found[0]
        self.server = RedisServer(found[0], extra_args=["--maxmemory-policy", "noeviction"])
        self.log = log
        self.node = node_bullmq()
        self._counter = 0
        self.bytecode = Path(tempfile.mkdtemp(prefix="bench-pycache-"))
        """The runs' bytecode cache (``PYTHONPYCACHEPREFIX``), removed at the end."""
        self._warm: set[tuple[str, ...]] = set()

    def __enter__(self) -> Runner:
        self.server.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.cleanup()
        shutil.rmtree(self.bytecode, ignore_errors=True)

    def run(
        self, command: Command, timeout: float = 600, *, warm_up: bool = False
    ) -> dict[str, Any]:
        """Run ``command`` once in a fresh process with a fresh prefix; its parsed JSON line.

        ``warm_up``: the first time ``command`` is run, run it once more before, unmeasured
        (its bytecode cache is then written).
        """
        if warm_up and tuple(command) not in self._warm:
            self._warm.add(tuple(command))
            self.run(command, timeout)
        self._counter += 1
        environment = {
            **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
            "BENCH_REDIS_URL": self.server.url,
            "BENCH_PREFIX": f"b{self._counter}",
            "PYTHONPATH": str(ROOT),
            "PYTHONPYCACHEPREFIX": str(self.bytecode),
        }
        if self.node is not None:
            environment["NODE_PATH"] = str(self.node)
        completed = subprocess.run(
            command,
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        self.flush()
        if completed.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{completed.stderr[-3000:]}")
        return with_rates(json.loads(completed.stdout.strip().splitlines()[-1]))

    def flush(self) -> None:
        """Empty the benchmark's own Redis (never anyone else's: it was started here)."""
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as connection:
            connection.sendall(b"FLUSHALL\r\n")
            if not connection.recv(64).startswith(b"+OK"):
                raise RuntimeError("FLUSHALL failed")


def python(*args: str) -> Command:
    return [sys.executable, "-m", "bench.workloads.python_side", *args]


def node(*args: str) -> Command:
    return ["node", str(BENCH / "workloads" / "node_side.js"), *args]
