"""What the runner tells the world about its workers: log lines and Prometheus metrics."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from ..runtime.worker.events import JobInfo, WorkerListener, WorkerState

__all__ = ["LoggingListener", "Metrics", "MetricsListener"]


class LoggingListener(WorkerListener):
    """Logs failures, errors, stalls and lost locks with queue, job name and id."""

    def __init__(self, log: logging.Logger) -> None:
        self._log = log

    def on_completed(self, job: JobInfo, duration: float) -> None:
        self._log.debug("completed %s/%s id=%s in %.3fs", job.queue, job.name, job.id, duration)

    def on_failed(
        self, job: JobInfo, error: BaseException, *, will_retry: bool, duration: float
    ) -> None:
        outcome = "will be retried" if will_retry else "failed for good"
        self._log.warning(
            "job failed: queue=%s name=%s id=%s attempt=%d (%s): %s: %s",
            job.queue,
            job.name,
            job.id,
            job.attempt,
            outcome,
            type(error).__name__,
            error,
        )

    def on_invalid_payload(self, job: JobInfo, error: Exception) -> None:
        self._log.warning(
            "invalid payload: queue=%s name=%s id=%s: %s",
            job.queue,
            job.name,
            job.id,
            str(error).replace("\n", "; "),
        )

    def on_unknown_job(self, job: JobInfo) -> None:
        self._log.warning(
            "no processor for job: queue=%s name=%s id=%s", job.queue, job.name, job.id
        )

    def on_error(self, queue: str, error: BaseException) -> None:
        self._log.error("worker error: queue=%s: %s: %s", queue, type(error).__name__, error)

    def on_stalled(self, queue: str, job_ids: Sequence[str]) -> None:
        self._log.warning(
            "stalled jobs put back to wait (or failed): queue=%s ids=%s", queue, ", ".join(job_ids)
        )

    def on_lock_renewal_failed(self, queue: str, job_ids: Sequence[str]) -> None:
        self._log.warning(
            "lost the locks of running jobs (another worker may run them): queue=%s ids=%s",
            queue,
            ", ".join(job_ids),
        )

    def on_state(self, queue: str, state: WorkerState) -> None:
        self._log.info("worker %s: %s", queue, state.value)


class Metrics:
    """The runner's Prometheus metrics, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ("queue", "job_name")
        self.completed = Counter(
            "bullmq_jobs_completed", "Jobs completed", labels, registry=self.registry
        )
        self.failed = Counter(
            "bullmq_jobs_failed",
            "Job attempts failed (final: no retry left)",
            (*labels, "final"),
            registry=self.registry,
        )
        self.invalid = Counter(
            "bullmq_jobs_invalid_payload",
            "Jobs whose data failed their schema",
            labels,
            registry=self.registry,
        )
        self.duration = Histogram(
            "bullmq_job_duration_seconds",
            "Time processors ran",
            labels,
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=self.registry,
        )
        self.depth = Gauge(
            "bullmq_queue_jobs",
            "Jobs in the queue, by state",
            ("queue", "state"),
            registry=self.registry,
        )
        self.up = Gauge(
            "bullmq_worker_up",
            "1 when the queue's worker runs in this process",
            ("queue",),
            registry=self.registry,
        )


class MetricsListener(WorkerListener):
    """Counts what the workers do into :class:`Metrics`."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def on_completed(self, job: JobInfo, duration: float) -> None:
        self._metrics.completed.labels(job.queue, job.name).inc()
        self._metrics.duration.labels(job.queue, job.name).observe(duration)

    def on_failed(
        self, job: JobInfo, error: BaseException, *, will_retry: bool, duration: float
    ) -> None:
        self._metrics.failed.labels(job.queue, job.name, "false" if will_retry else "true").inc()
        if duration:
            self._metrics.duration.labels(job.queue, job.name).observe(duration)

    def on_invalid_payload(self, job: JobInfo, error: Exception) -> None:
        self._metrics.invalid.labels(job.queue, job.name).inc()

    def on_state(self, queue: str, state: WorkerState) -> None:
        self._metrics.up.labels(queue).set(
            1 if state in (WorkerState.RUNNING, WorkerState.PAUSED) else 0
        )
