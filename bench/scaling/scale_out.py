"""Scaling out: 1, 2 and 4 worker processes on one queue, and 4 queues in 4 processes.

Each measurement: the queues are paused and filled, the processes started
(each with concurrency 10 per queue), the queues resumed once all are ready;
after the settle time, a window measures the aggregate throughput, Redis's CPU
(whole process and main thread) and commands, the workers' and the machine's
CPU. No-op jobs and ~1 ms jobs, ours and Node BullMQ interleaved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .backlog import fill, resume
from .context import Context
from .processes import Implementation, start_workers, stop, wait_ready

__all__ = ["KINDS", "LAYOUTS", "Layout", "measure"]

KINDS = {"noop": 0, "1ms": 1}
"""Kind of job → milliseconds each one waits."""
_QUEUE_PREFIX = {"noop": "noop", "1ms": "sleep"}
_GUESS_PER_PROCESS = {"noop": 20_000.0, "1ms": 6_000.0}
"""Jobs/s a process is expected to reach at first (the backlog's size; later runs use the
fastest per process measured)."""


@dataclass(frozen=True)
class Layout:
    """How many processes, on how many queues (process i takes queue i mod queues)."""

    processes: int
    queues: int

    @property
    def label(self) -> str:
        processes = f"{self.processes} process{'es' if self.processes > 1 else ''}"
        return f"{processes}, {self.queues} queue{'s' if self.queues > 1 else ''}"

    def queue_names(self, kind: str) -> list[str]:
        return [f"{_QUEUE_PREFIX[kind]}{index}" for index in range(self.queues)]

    def assignment(self, kind: str) -> list[list[str]]:
        names = self.queue_names(kind)
        return [[names[index % self.queues]] for index in range(self.processes)]


LAYOUTS = [Layout(1, 1), Layout(2, 1), Layout(4, 1), Layout(4, 4)]


def measure(context: Context, impl: Implementation, kind: str, layout: Layout) -> dict[str, Any]:
    """One layout's figures for one implementation and kind of job."""
    queues = layout.queue_names(kind)
    jobs, reserve = context.backlog_size(kind, _GUESS_PER_PROCESS[kind], layout.processes)
    context.flush()
    fill(queues, -(-jobs // len(queues)))
    workers = start_workers(impl, layout.assignment(kind), KINDS[kind], context.logs)
    try:
        wait_ready(workers)
        resume(queues)
        window, ended_early = context.window(queues, workers, reserve)
    finally:
        stop(workers)
        context.flush()
    figures = window.figures()
    context.note(kind, figures["jobs_per_s"], layout.processes)
    return {
        "impl": impl.name,
        "kind": kind,
        "layout": layout.label,
        "processes": layout.processes,
        "queues": layout.queues,
        "backlog": jobs,
        "ended_early": ended_early,
        **figures,
    }
