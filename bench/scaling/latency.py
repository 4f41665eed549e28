"""Latency under load: add-to-start and add-to-complete while one worker process runs at
50% and 90% of the throughput it was just measured at.

One worker process (concurrency 10) per implementation and kind of job. First
its maximum alone: a paused, filled queue is resumed and drained for a window
(the same measure as the scaling runs). Then its sustained maximum: the
producer process of the same implementation adds as fast as it can (asked for
twice the maximum alone) for a phase, and the jobs completed meanwhile over the
phase's time are what the worker sustains while adds share Redis and the
machine's cores with it (on two cores, well below its maximum alone: 90% of that
would only measure a growing backlog). Then, per load, the producer adds at that
fraction of the sustained maximum for the phase's seconds, each job stamped with
the monotonic time before its add call; the worker notes when each job's
processor started and when its completion was recorded in Redis. Percentiles
are over every job of the phase (nearest rank).
"""

from __future__ import annotations

import json
from typing import Any

from .backlog import drain, fill, resume
from .context import Context
from .probes import Window, backlog, snapshot
from .processes import Implementation, produce, start_latency_worker, stop, wait_ready
from .stats import percentile_ms

__all__ = ["LATENCY_KINDS", "LOADS", "measure"]

LATENCY_KINDS = {"noop": ("latencyNoop", 0), "1ms": ("latencySleep", 1)}
"""Kind of job → (queue, milliseconds each job waits)."""
LOADS = (0.5, 0.9)
_GUESS = {"noop": 25_000.0, "1ms": 6_000.0}


def _delays(samples: list[list[int]], phase: int) -> dict[str, float]:
    starts = sorted(sample[2] for sample in samples if sample[0] == phase)
    completes = sorted(sample[3] for sample in samples if sample[0] == phase)
    if not starts:
        return {"recorded": 0}
    return {
        "recorded": len(starts),
        "start_p50_ms": percentile_ms(starts, 0.5),
        "start_p99_ms": percentile_ms(starts, 0.99),
        "start_max_ms": round(starts[-1] / 1e6, 3),
        "complete_p50_ms": percentile_ms(completes, 0.5),
        "complete_p99_ms": percentile_ms(completes, 0.99),
        "complete_max_ms": round(completes[-1] / 1e6, 3),
    }


def measure(context: Context, impl: Implementation, kind: str) -> dict[str, Any]:
    """The worker's maximum, then the delays at each load."""
    queue, sleep_ms = LATENCY_KINDS[kind]
    jobs, reserve = context.backlog_size(f"latency-{kind}", _GUESS[kind])
    samples_file = context.logs / f"{impl.name}-{kind}-samples.json"
    context.flush()
    fill([queue], jobs)
    worker = start_latency_worker(impl, queue, sleep_ms, samples_file, context.logs)
    phases: list[dict[str, Any]] = []
    try:
        wait_ready([worker])
        resume([queue])
        most, ended_early = context.window([queue], [worker], reserve)
        maximum = most.figures()
        context.note(f"latency-{kind}", maximum["jobs_per_s"])
        drain([queue])
        context.wait_empty([queue], timeout=30)
        pids = [worker.process.pid]
        sustained = _sustained(context, impl, queue, 2 * maximum["jobs_per_s"])
        context.wait_empty([queue], timeout=120)
        for phase, load in enumerate(LOADS, start=1):
            rate = load * sustained["jobs_per_s"]
            context.log(f"  {impl.name} {kind}: {load:.0%} load, {rate:,.0f} jobs/s")
            before = snapshot(context.client, context.prefix, [queue], pids)
            produced = produce(impl, queue, rate, context.phase_seconds, phase)
            left_when_adds_ended = snapshot(context.client, context.prefix, [queue], pids).backlog
            context.wait_empty([queue], timeout=60)
            cost = Window.between(
                before, snapshot(context.client, context.prefix, [queue], pids), produced["jobs"]
            ).figures()
            phases.append(
                {
                    "phase": phase,
                    "load": load,
                    "target_jobs_per_s": round(rate, 1),
                    "added_jobs_per_s": round(produced["jobs_per_s"], 1),
                    "added": produced["jobs"],
                    "producer_cpu_us_per_job": round(produced["cpu"] / produced["jobs"] * 1e6, 1),
                    "add_call_p50_ms": produced["add_p50_ms"],
                    "add_call_p99_ms": produced["add_p99_ms"],
                    "backlog_when_adds_ended": left_when_adds_ended,
                    "redis_cpu_us_per_job": cost["redis_cpu_us_per_job"],
                    "redis_commands_per_job": cost["redis_commands_per_job"],
                    "worker_cpu_us_per_job": cost["clients_cpu_us_per_job"],
                }
            )
    finally:
        stop([worker])
        context.flush()
    samples: list[list[int]] = json.loads(samples_file.read_text())["samples"]
    for entry in phases:
        entry.update(_delays(samples, entry["phase"]))
    return {
        "impl": impl.name,
        "kind": kind,
        "queue": queue,
        "max": {**maximum, "ended_early": ended_early, "backlog": jobs},
        "sustained": sustained,
        "phases": phases,
    }


def _sustained(context: Context, impl: Implementation, queue: str, rate: float) -> dict[str, Any]:
    """Jobs/s the worker completes while the producer adds as fast as it can (phase 0 jobs:
    not recorded); ``rate`` is what the producer is asked for."""
    context.log(f"  {impl.name}: adding as fast as possible (asked {rate:,.0f} jobs/s)")
    produced = produce(impl, queue, rate, context.phase_seconds, 0)
    left = backlog(context.client, context.prefix, [queue])
    completed = produced["jobs"] - left
    return {
        "jobs_per_s": round(completed / produced["wall"], 1),
        "added_jobs_per_s": round(produced["jobs_per_s"], 1),
        "left_when_adds_ended": left,
    }
