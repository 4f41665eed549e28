"""What the runner tells the world about its workers: log lines, counts and Prometheus metrics.

Every line carries its facts as structured fields too (``queue``, ``job_name``,
``job_id``, ``attempt``, ``duration_ms``...), which the JSON log format writes out.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..runtime.worker.events import JobInfo, Outcome, WorkerListener, WorkerState

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram

__all__ = ["JobLogListener", "JobTally", "LoggingListener", "Metrics", "MetricsListener"]


def _job_fields(job: JobInfo) -> dict[str, object]:
    return {"queue": job.queue, "job_name": job.name, "job_id": job.id, "attempt": job.attempt}


class LoggingListener(WorkerListener):
    """Logs failures, errors, stalls and lost locks with queue, job name and id."""

    def __init__(self, log: logging.Logger) -> None:
        self._log = log

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
            extra={
                **_job_fields(job),
                "duration_ms": round(duration * 1000, 3),
                "will_retry": will_retry,
                "error": f"{type(error).__name__}: {error}",
            },
        )

    def on_not_recorded(self, job: JobInfo, outcome: Outcome, error: BaseException) -> None:
        self._log.warning(
            "job %s but Redis did not record it (a stalled check gives it back if still active): "
            "queue=%s name=%s id=%s attempt=%d: %s: %s",
            outcome,
            job.queue,
            job.name,
            job.id,
            job.attempt,
            type(error).__name__,
            error,
            extra={
                **_job_fields(job),
                "outcome": outcome,
                "error": f"{type(error).__name__}: {error}",
            },
        )

    def on_invalid_payload(self, job: JobInfo, error: Exception) -> None:
        self._log.warning(
            "invalid payload: queue=%s name=%s id=%s: %s",
            job.queue,
            job.name,
            job.id,
            str(error).replace("\n", "; "),
            extra=_job_fields(job),
        )

    def on_unknown_job(self, job: JobInfo) -> None:
        self._log.warning(
            "no processor for job: queue=%s name=%s id=%s",
            job.queue,
            job.name,
            job.id,
            extra=_job_fields(job),
        )

    def on_error(self, queue: str, error: BaseException) -> None:
        self._log.error(
            "worker error: queue=%s: %s: %s",
            queue,
            type(error).__name__,
            error,
            extra={"queue": queue, "error": f"{type(error).__name__}: {error}"},
        )

    def on_stalled(self, queue: str, job_ids: Sequence[str]) -> None:
        self._log.warning(
            "stalled jobs put back to wait (or failed): queue=%s ids=%s",
            queue,
            ", ".join(job_ids),
            extra={"queue": queue, "job_ids": list(job_ids)},
        )

    def on_lock_renewal_failed(self, queue: str, job_ids: Sequence[str]) -> None:
        self._log.warning(
            "lost the locks of running jobs (another worker may run them): queue=%s ids=%s",
            queue,
            ", ".join(job_ids),
            extra={"queue": queue, "job_ids": list(job_ids)},
        )

    def on_state(self, queue: str, state: WorkerState) -> None:
        self._log.info(
            "worker %s: %s", queue, state.value, extra={"queue": queue, "state": state.value}
        )


class JobLogListener(WorkerListener):
    """Logs a line per completed job at INFO: queue, name, id, attempt and duration.

    The runner adds it only when the job lines are asked for and their logger
    is enabled (checked once), so with the lines off a completion costs nothing more.
    """

    def __init__(self, log: logging.Logger) -> None:
        self._log = log

    def on_completed(self, job: JobInfo, duration: float) -> None:
        milliseconds = round(duration * 1000, 3)
        self._log.info(
            "completed: queue=%s name=%s id=%s attempt=%d in %.1f ms",
            job.queue,
            job.name,
            job.id,
            job.attempt,
            milliseconds,
            extra={**_job_fields(job), "duration_ms": milliseconds},
        )


@dataclass(slots=True)
class _QueueTally:
    completed: int = 0
    failed: int = 0
    failed_final: int = 0
    seconds: float = 0.0


class JobTally(WorkerListener):
    """Counts completed and failed jobs and the time completed ones took, per queue."""

    def __init__(self) -> None:
        self._queues: dict[str, _QueueTally] = {}

    def _of(self, queue: str) -> _QueueTally:
        tally = self._queues.get(queue)
        if tally is None:
            tally = self._queues[queue] = _QueueTally()
        return tally

    def on_completed(self, job: JobInfo, duration: float) -> None:
        tally = self._of(job.queue)
        tally.completed += 1
        tally.seconds += duration

    def on_failed(
        self, job: JobInfo, error: BaseException, *, will_retry: bool, duration: float
    ) -> None:
        tally = self._of(job.queue)
        tally.failed += 1
        if not will_retry:
            tally.failed_final += 1

    def log_summary(self, log: logging.Logger, queues: Sequence[str]) -> None:
        """One INFO line per queue: jobs completed and failed, the mean time of completed ones."""
        for queue in queues:
            tally = self._queues.get(queue, _QueueTally())
            mean = round(tally.seconds * 1000 / tally.completed, 3) if tally.completed else 0.0
            log.info(
                "summary: worker %s: %d completed (mean %.1f ms), %d failed attempts "
                "(%d failed for good)",
                queue,
                tally.completed,
                mean,
                tally.failed,
                tally.failed_final,
                extra={
                    "queue": queue,
                    "completed": tally.completed,
                    "failed": tally.failed,
                    "failed_final": tally.failed_final,
                    "mean_duration_ms": mean,
                },
            )


class Metrics:
    """The runner's Prometheus metrics, in a registry of their own (prometheus_client is
    imported when the first is made: a runner without a health server has none)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

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
        self.not_recorded = Counter(
            "bullmq_jobs_not_recorded",
            "Job outcomes Redis did not record (lock lost, job no longer active, Redis unreachable)",
            (*labels, "outcome"),
            registry=self.registry,
        )
        self.locks_lost = Counter(
            "bullmq_job_locks_lost",
            "Locks of running jobs that could not be renewed (another worker may run them)",
            ("queue",),
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
        self.loop_lag = Gauge(
            "bullmq_event_loop_lag_seconds",
            "The largest lag of the workers' event loop over the last 10 s or so",
            registry=self.registry,
        )
        self.loop_blocks = Counter(
            "bullmq_event_loop_blocked",
            "Times the workers' event loop was blocked (by a processor) past the threshold",
            registry=self.registry,
        )
        self.loop_blocked_seconds = Counter(
            "bullmq_event_loop_blocked_seconds",
            "Seconds the workers' event loop was blocked, in all",
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
        self._completed: dict[tuple[str, str], tuple[Counter, Histogram]] = {}
        """(queue, job name) → its completion counter and duration histogram: a job's
        completion looks its labels up once, not per job."""

    def on_completed(self, job: JobInfo, duration: float) -> None:
        children = self._completed.get((job.queue, job.name))
        if children is None:
            children = self._completed[(job.queue, job.name)] = (
                self._metrics.completed.labels(job.queue, job.name),
                self._metrics.duration.labels(job.queue, job.name),
            )
        completed, durations = children
        completed.inc()
        durations.observe(duration)

    def on_failed(
        self, job: JobInfo, error: BaseException, *, will_retry: bool, duration: float
    ) -> None:
        self._metrics.failed.labels(job.queue, job.name, "false" if will_retry else "true").inc()
        if duration:
            self._metrics.duration.labels(job.queue, job.name).observe(duration)

    def on_not_recorded(self, job: JobInfo, outcome: Outcome, error: BaseException) -> None:
        self._metrics.not_recorded.labels(job.queue, job.name, outcome).inc()

    def on_lock_renewal_failed(self, queue: str, job_ids: Sequence[str]) -> None:
        self._metrics.locks_lost.labels(queue).inc(len(job_ids))

    def on_invalid_payload(self, job: JobInfo, error: Exception) -> None:
        self._metrics.invalid.labels(job.queue, job.name).inc()

    def on_state(self, queue: str, state: WorkerState) -> None:
        self._metrics.up.labels(queue).set(
            1 if state in (WorkerState.RUNNING, WorkerState.PAUSED) else 0
        )
