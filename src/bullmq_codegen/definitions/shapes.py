"""The dict shapes of a definitions module: queues, their workers, processors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, Required

from pydantic import BaseModel, ConfigDict, with_config
from typing_extensions import TypedDict

from ..job import Job
from .options import JobOptions, PayloadT, QueueOptions, ScheduleOptions, WorkerOptions

__all__ = [
    "BackoffStrategy",
    "DeduplicationRule",
    "Processor",
    "QueueDefinition",
    "WorkerDefinition",
]

Processor = Callable[[Job[Any, Any]], Awaitable[object]]
"""``async def processor(job: Job[Schema]) -> Result``: one argument, the job."""

BackoffStrategy = Callable[[int, str, BaseException, Job[Any, Any]], int | Awaitable[int]]
"""``strategy(attempts_made, backoff_type, error, job) -> delay_ms``, as BullMQ's
``settings.backoffStrategy``: milliseconds before the next attempt, ``0`` at once,
``-1`` to fail the job for good now."""


@with_config(ConfigDict(extra="forbid", arbitrary_types_allowed=True))
class DeduplicationRule(TypedDict, Generic[PayloadT], total=False):
    """How a worker deduplicates its jobs: ``id`` derives the deduplication id from the payload."""

    id: Required[Callable[[PayloadT], str]]
    """``payload → deduplication id``: jobs with the same id are one while it lasts."""
    ttl: int
    """Milliseconds the deduplication lasts; without it, until the job finishes."""
    extend: bool
    """Reset the ttl each time a duplicate is refused."""
    replace: bool
    """Replace the pending (delayed) job's data with the duplicate's."""


@with_config(ConfigDict(extra="forbid", arbitrary_types_allowed=True))
class WorkerDefinition(TypedDict, total=False):
    """A worker: the processor of one job name, with its schema and options."""

    processor: Required[Processor]
    """The async function that runs each job of this name; its return annotation is the
    job's result type."""
    schema: type[BaseModel]
    """Pydantic model of the payload; producers and the worker validate with it."""
    progress: type[BaseModel]
    """Pydantic model of the progress the processor reports (a number without it)."""
    options: WorkerOptions
    """BullMQ worker options (``concurrency``, ``limiter``, lock and stall settings...)."""
    defaultJobOptions: JobOptions
    """Job options of this job name, over the queue's ``defaultJobOptions`` and under a call's."""
    schedules: Mapping[str, ScheduleOptions[Any]]
    """Scheduler id → BullMQ job scheduler, upserted when workers start."""
    deduplication: DeduplicationRule[Any]
    """Deduplicate the jobs of this name by an id derived from the payload."""
    jobId: Callable[[Any], str]
    """``payload → job id``: adding a job whose id exists returns the existing job."""
    backoffStrategy: BackoffStrategy
    """The delay before a retry when a job's ``backoff.type`` is not ``fixed``/``exponential``."""
    movedFrom: str
    """The queue this job name used to be in: its workers also take the jobs of this name still
    there (added by producers not yet redeployed, or waiting from before the move) until it is
    removed. See the README's "Moving a job name to its own queue"."""


@with_config(ConfigDict(extra="forbid", arbitrary_types_allowed=True))
class QueueDefinition(TypedDict, total=False):
    """A BullMQ queue and the workers (one per job name) that process its jobs."""

    options: QueueOptions
    """BullMQ queue options (``defaultJobOptions``)."""
    workers: Required[Mapping[str, WorkerDefinition]]
    """Job name → worker."""
