"""What a worker tells the rest of the process: listener callbacks and counters."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

__all__ = [
    "JobInfo",
    "Outcome",
    "RouteStats",
    "WorkerListener",
    "WorkerState",
    "callbacks",
    "emit",
    "notify",
]

_log = logging.getLogger("bullmq_codegen.worker")

Outcome = Literal["completed", "failed"]
"""How a processor ended: it returned, or it raised."""


class WorkerState(StrEnum):
    """Where a queue's worker is in its life."""

    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    CLOSING = "closing"
    CLOSED = "closed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class JobInfo:
    """Which job an event is about."""

    queue: str
    name: str
    id: str
    attempt: int
    """This attempt's number, from 1."""


@dataclass(slots=True)
class RouteStats:
    """Counts of one job name in one worker, since it started."""

    completed: int = 0
    failed: int = 0
    invalid_payloads: int = 0
    active: int = 0
    not_recorded: int = 0
    """Outcomes Redis did not record (see :meth:`WorkerListener.on_not_recorded`)."""


class WorkerListener:
    """Receives what workers do. Override what you need; every method is a no-op here.

    Methods are called on the event loop, synchronously, right when things
    happen: keep them quick (log, count, set a gauge). An exception raised by a
    listener is logged and otherwise ignored.
    """

    def on_active(self, job: JobInfo) -> None:
        """``job`` was taken and its processor is about to run."""

    def on_completed(self, job: JobInfo, duration: float) -> None:
        """``job`` completed; its processor ran ``duration`` seconds."""

    def on_failed(
        self, job: JobInfo, error: BaseException, *, will_retry: bool, duration: float
    ) -> None:
        """``job`` failed; BullMQ retries it later when ``will_retry``."""

    def on_not_recorded(self, job: JobInfo, outcome: Outcome, error: BaseException) -> None:
        """``job``'s processor was done (``outcome``: ``"completed"`` or ``"failed"``) but Redis
        did not record it: ``error`` says why (the job's lock was lost or taken, it is no longer
        active, Redis could not be reached). Neither :meth:`on_completed` nor :meth:`on_failed`
        is called; a job still active is given back by a stalled check and runs again."""

    def on_invalid_payload(self, job: JobInfo, error: Exception) -> None:
        """``job``'s data did not match its schema (it fails without retry)."""

    def on_unknown_job(self, job: JobInfo) -> None:
        """No processor in this worker handles ``job``'s name (it fails without retry)."""

    def on_error(self, queue: str, error: BaseException) -> None:
        """Something went wrong outside a processor (Redis unreachable, a lost lock...)."""

    def on_stalled(self, queue: str, job_ids: Sequence[str]) -> None:
        """Jobs whose worker stopped renewing their lock were put back to wait (or failed)."""

    def on_lock_renewal_failed(self, queue: str, job_ids: Sequence[str]) -> None:
        """The locks of these running jobs could not be renewed: another worker may run them."""

    def on_state(self, queue: str, state: WorkerState) -> None:
        """The worker of ``queue`` is now in ``state``."""


def notify(listeners: Sequence[WorkerListener], call: Callable[[WorkerListener], None]) -> None:
    """``call(listener)`` for every listener; a listener's exception is logged, never raised."""
    for listener in listeners:
        try:
            call(listener)
        except Exception:
            _log.exception("worker listener %r failed", listener)


def callbacks(listeners: Sequence[WorkerListener], event: str) -> tuple[Callable[..., None], ...]:
    """The bound ``event`` methods (``"on_completed"``...) of the ``listeners`` that override it.

    A job's events go to these, bound once (see :func:`emit`), rather than to every
    listener through :func:`notify`: the no-op methods of :class:`WorkerListener`
    cost nothing then, which counts on a worker's hot path.
    """
    default = getattr(WorkerListener, event)
    bound = [getattr(listener, event) for listener in listeners]
    return tuple(method for method in bound if getattr(method, "__func__", None) is not default)


def emit(methods: tuple[Callable[..., None], ...], *args: Any) -> None:
    """``method(*args)`` for each of ``methods`` (from :func:`callbacks`); a listener's exception
    is logged, never raised."""
    for method in methods:
        try:
            method(*args)
        except Exception:
            _log.exception("worker listener %r failed", getattr(method, "__self__", method))
