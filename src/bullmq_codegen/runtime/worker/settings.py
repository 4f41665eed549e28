"""The settings of one queue's BullMQ worker, resolved from the definitions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ...definitions.options import RateLimiterOptions, RemoveOnFinish, WorkerOptions
from ...definitions.shapes import BackoffStrategy, WorkerDefinition

__all__ = ["QueueWorkerSettings", "RouteSettings"]


@dataclass(frozen=True, slots=True)
class RouteSettings:
    """What belongs to one processor: its concurrency, finished-job retention defaults,
    custom backoff strategy and limit of starts."""

    concurrency: int = 1
    remove_on_complete: RemoveOnFinish | None = None
    remove_on_fail: RemoveOnFinish | None = None
    backoff_strategy: BackoffStrategy | None = None
    max_started_attempts: int | None = None

    @classmethod
    def from_definition(cls, definition: WorkerDefinition) -> RouteSettings:
        """Settings of one worker definition (its ``options`` and ``backoffStrategy``)."""
        options = definition.get("options", {})
        return cls(
            concurrency=options.get("concurrency", 1),
            remove_on_complete=options.get("removeOnComplete"),
            remove_on_fail=options.get("removeOnFail"),
            backoff_strategy=definition.get("backoffStrategy"),
            max_started_attempts=options.get("maxStartedAttempts"),
        )


@dataclass(frozen=True, slots=True)
class QueueWorkerSettings:
    """What belongs to the one BullMQ worker of a queue (BullMQ's defaults when unset)."""

    lock_duration: int = 30_000
    lock_renew_time: int = 15_000
    stalled_interval: int = 30_000
    max_stalled_count: int = 1
    drain_delay: float = 5.0
    limiter: RateLimiterOptions | None = None
    name: str | None = None
    skip_stalled_check: bool = False
    skip_lock_renewal: bool = False
    max_metrics_size: int | None = None
    """``metrics.maxDataPoints``: completions and failures are counted per minute when set."""
    maximum_rate_limit_delay: int = 30_000

    @classmethod
    def from_workers(cls, workers: Mapping[str, WorkerOptions]) -> QueueWorkerSettings:
        """Merge the queue-level keys of the workers of one queue (validation made them agree)."""
        merged: WorkerOptions = {}
        for options in workers.values():
            merged.update(options)
        lock_duration = merged.get("lockDuration", 30_000)
        return cls(
            lock_duration=lock_duration,
            lock_renew_time=merged.get("lockRenewTime", lock_duration // 2),
            stalled_interval=merged.get("stalledInterval", 30_000),
            max_stalled_count=merged.get("maxStalledCount", 1),
            drain_delay=float(merged.get("drainDelay", 5)),
            limiter=merged.get("limiter"),
            name=merged.get("name"),
            skip_stalled_check=merged.get("skipStalledCheck", False),
            skip_lock_renewal=merged.get("skipLockRenewal", False),
            max_metrics_size=metrics["maxDataPoints"]
            if (metrics := merged.get("metrics"))
            else None,
            maximum_rate_limit_delay=merged.get("maximumRateLimitDelay", 30_000),
        )

    def bullmq_opts(self) -> dict[str, object]:
        """The worker options bullmq's scripts and Job read (``queue.opts``)."""
        opts: dict[str, object] = {"lockDuration": self.lock_duration}
        if self.limiter is not None:
            opts["limiter"] = dict(self.limiter)
        if self.name is not None:
            opts["name"] = self.name
        if self.max_metrics_size is not None:
            opts["metrics"] = {"maxDataPoints": self.max_metrics_size}
        return opts

    @property
    def metrics_size(self) -> int | str:
        """``maxMetricsSize`` as BullMQ's finishing script reads it (``""``: no metrics)."""
        return self.max_metrics_size if self.max_metrics_size is not None else ""
