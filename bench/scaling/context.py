"""What every measurement of a run shares: the Redis, its client, the timings, the logs."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from redis import Redis

from . import probes
from .processes import Started

__all__ = ["MAX_EXPECTED", "Context"]

MAX_EXPECTED = 40_000.0
"""Jobs/s no run here is expected to pass: backlogs are sized for at most this."""


@dataclass
class Context:
    """One run's shared state."""

    client: Redis
    prefix: str
    flush: Callable[[], None]
    logs: Path
    window_seconds: float
    """How long each throughput window lasts (shorter when the backlog runs low)."""
    settle_seconds: float
    """How long the workers run after the queues are resumed before a window starts."""
    phase_seconds: float
    """How long a latency phase's producer runs."""
    log: Callable[[str], None]
    observed: dict[str, float] = field(default_factory=dict[str, float])
    """The highest rate per process measured so far per kind of job (sizes the next backlogs)."""

    def backlog_size(self, kind: str, guess: float, processes: int = 1) -> tuple[int, int]:
        """(jobs to add, jobs left when a window ends early) for ``processes`` expected near
        ``guess`` jobs/s each (or the fastest per process of ``kind`` so far), together never
        past ``MAX_EXPECTED`` (one Redis's ceiling here is about 33,000 jobs/s)."""
        rate = min(max(guess, self.observed.get(kind, 0.0)) * processes, MAX_EXPECTED)
        reserve = max(2000, int(rate * 0.2))
        return int(rate * (self.settle_seconds + self.window_seconds) * 1.3) + reserve, reserve

    def note(self, kind: str, jobs_per_s: float, processes: int = 1) -> None:
        self.observed[kind] = max(self.observed.get(kind, 0.0), jobs_per_s / processes)

    def window(
        self, queues: Sequence[str], workers: Sequence[Started], reserve: int
    ) -> tuple[probes.Window, bool]:
        """Settle, then measure a throughput window of ``workers`` draining ``queues``."""
        time.sleep(self.settle_seconds)
        pids = [worker.process.pid for worker in workers]
        return probes.window(self.client, self.prefix, queues, pids, self.window_seconds, reserve)

    def wait_empty(self, queues: Sequence[str], timeout: float) -> int:
        """Wait until ``queues`` hold no job (or ``timeout``); the jobs still left."""
        deadline = time.monotonic() + timeout
        while (left := probes.backlog(self.client, self.prefix, queues)) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.02)
        return left
