"""Run workers in-process until their queues are drained, then close them: for tests.

::

    report = await run_until_drained(create_workers(), runtime)
    assert len(report.completed) == 3

The workers are the application's own (``create_workers()`` of the generated
package), on a real Redis. Waiting ends when no job of their queues is left to
run (see :mod:`.leftover`), or after ``timeout`` seconds with
:class:`DrainTimeoutError` saying what is left. Jobs that failed for good make
it raise :class:`JobsFailedError` with their errors and tracebacks, unless
``fail_on_error=False``.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Callable, Collection
from dataclasses import dataclass

from ..runtime.group import WorkerGroup
from ..runtime.registry import Runtime
from ..runtime.worker.events import JobInfo, WorkerListener, WorkerState
from .leftover import describe_leftovers, read_leftovers

__all__ = [
    "BullMQWorkers",
    "DrainReport",
    "DrainTimeoutError",
    "FailedJob",
    "JobsFailedError",
    "run_until_drained",
]

_POLL_SECONDS = 0.01
_CLOSE_SECONDS = 5.0
"""How long running processors get to finish when the workers close after a timeout."""
_TRACEBACKS = 3
"""Failures shown with their whole traceback in a :class:`JobsFailedError`."""


@dataclass(frozen=True, slots=True)
class FailedJob:
    """A job that failed for good while the workers ran, and the exception that failed it."""

    job: JobInfo
    error: BaseException

    def describe(self) -> str:
        """``job 3 'afterSignUpEmail' of queue 'emailSend' (attempt 1): ValueError: boom``."""
        job = self.job
        return (
            f"job {job.id} {job.name!r} of queue {job.queue!r} (attempt {job.attempt}): "
            f"{type(self.error).__name__}: {self.error}"
        )


@dataclass(frozen=True, slots=True)
class DrainReport:
    """What the workers did until their queues were drained."""

    completed: tuple[JobInfo, ...]
    """Jobs that completed, in order."""
    failed: tuple[FailedJob, ...]
    """Jobs that failed for good (their last attempt failed, or they cannot be retried)."""
    retried: tuple[FailedJob, ...]
    """Attempts that failed and that BullMQ retries (their jobs were waited for)."""
    errors: tuple[str, ...]
    """Errors outside processors (Redis, locks), as ``queue: Error: message``."""
    delayed_later: int
    """Delayed jobs left in the queues, due later than the drain waited for."""


class JobsFailedError(AssertionError):
    """Jobs failed for good while the workers drained their queues; ``report`` has them all."""

    def __init__(self, report: DrainReport) -> None:
        self.report = report
        failures = report.failed
        lines = [f"{len(failures)} job(s) failed while the workers drained their queues:"]
        for number, failure in enumerate(failures):
            lines.append("  " + failure.describe())
            if number < _TRACEBACKS:
                shown = "".join(traceback.format_exception(failure.error)).rstrip()
                lines.extend("      " + line for line in shown.splitlines())
        lines.append("(pass fail_on_error=False to inspect failures in the report instead)")
        super().__init__("\n".join(lines))


class DrainTimeoutError(AssertionError):
    """The queues still held jobs to run after the timeout; the message lists them."""


class _Recorder(WorkerListener):
    def __init__(self) -> None:
        self.completed: list[JobInfo] = []
        self.failed: list[FailedJob] = []
        self.retried: list[FailedJob] = []
        self.errors: list[str] = []
        self.dead: list[str] = []

    def on_completed(self, job: JobInfo, duration: float) -> None:
        self.completed.append(job)

    def on_failed(
        self, job: JobInfo, error: BaseException, *, will_retry: bool, duration: float
    ) -> None:
        (self.retried if will_retry else self.failed).append(FailedJob(job, error))

    def on_error(self, queue: str, error: BaseException) -> None:
        self.errors.append(f"{queue}: {type(error).__name__}: {error}")

    def on_state(self, queue: str, state: WorkerState) -> None:
        if state is WorkerState.FAILED:
            self.dead.append(queue)

    def report(self, delayed_later: int) -> DrainReport:
        return DrainReport(
            completed=tuple(self.completed),
            failed=tuple(self.failed),
            retried=tuple(self.retried),
            errors=tuple(self.errors),
            delayed_later=delayed_later,
        )


async def run_until_drained(
    group: WorkerGroup,
    runtime: Runtime,
    *,
    timeout: float = 10.0,
    delayed_within: float = 0.0,
    fail_on_error: bool = True,
) -> DrainReport:
    """Start ``group`` (not started yet), wait until its queues are drained, close it.

    Drained means: no job of the group's queues waiting, prioritized, paused,
    active or waiting for its children, and no delayed job due now (or within
    ``delayed_within`` seconds of the start) or retrying a failed attempt.
    ``runtime`` is the group's (the generated package's ``runtime``).

    Raises :class:`DrainTimeoutError` after ``timeout`` seconds, listing what
    is left; :class:`JobsFailedError` when jobs failed for good and
    ``fail_on_error`` (the report is on the error); the worker's own error when
    a worker dies.
    """
    recorder = _Recorder()
    group.add_listener(recorder)
    contexts = [runtime.context(queue) for queue in group.queue_names]
    started = time.monotonic()
    due_by_ms = int(time.time() * 1000 + delayed_within * 1000)
    await group.start()
    try:
        while True:
            leftovers = await read_leftovers(contexts, due_by_ms=due_by_ms)
            if recorder.dead or all(left.pending == 0 for left in leftovers):
                break
            if time.monotonic() - started > timeout:
                left = await describe_leftovers(contexts, leftovers)
                failed = "".join(f"\n  {failure.describe()}" for failure in recorder.failed)
                retried = "".join(f"\n  {failure.describe()}" for failure in recorder.retried)
                errors = "".join(f"\n  {error}" for error in recorder.errors)
                raise DrainTimeoutError(
                    f"the workers did not drain their queues in {timeout} s; left:\n{left}"
                    + (f"\nfailed meanwhile:{failed}" if failed else "")
                    + (f"\nfailed and retried meanwhile:{retried}" if retried else "")
                    + (f"\nworker errors:{errors}" if errors else "")
                )
            await asyncio.sleep(_POLL_SECONDS)
    finally:
        await group.close(timeout=_CLOSE_SECONDS)
    if recorder.dead:
        await group.wait_closed()  # raises the error that killed the worker
    report = recorder.report(sum(left.delayed_later for left in leftovers))
    if fail_on_error and report.failed:
        raise JobsFailedError(report)
    return report


class BullMQWorkers:
    """The generated package's workers, run in-process for one test (see ``bullmq_workers``)."""

    def __init__(self, create_workers: Callable[..., WorkerGroup], runtime: Runtime) -> None:
        self._create_workers = create_workers
        self.runtime = runtime

    async def run_until_drained(
        self,
        *,
        queues: Collection[str] = (),
        workers: Collection[str] = (),
        timeout: float = 10.0,
        delayed_within: float = 0.0,
        fail_on_error: bool = True,
    ) -> DrainReport:
        """Run the workers (of every queue, or of the ``queues`` and ``workers`` named) until
        their queues are drained, then close them; see
        :func:`~bullmq_codegen.testing.run_until_drained` for what drained means.

        Raises ``DrainTimeoutError`` listing what is left after ``timeout``
        seconds, and ``JobsFailedError`` with every failed job's error and
        traceback when jobs failed for good (unless ``fail_on_error=False``).
        """
        group = self._create_workers(queues=queues, workers=workers)
        return await run_until_drained(
            group,
            self.runtime,
            timeout=timeout,
            delayed_within=delayed_within,
            fail_on_error=fail_on_error,
        )
