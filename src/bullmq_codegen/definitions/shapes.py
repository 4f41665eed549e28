"""The dict shapes of a definitions module: queues, their workers, processors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Required

from pydantic import BaseModel, ConfigDict, with_config
from typing_extensions import TypedDict

from ..job import Job
from .options import QueueOptions, WorkerOptions

__all__ = ["Processor", "QueueDefinition", "WorkerDefinition"]

Processor = Callable[[Job[Any]], Awaitable[object]]
"""``async def processor(job: Job[Schema]) -> result``: one argument, the job."""


@with_config(ConfigDict(extra="forbid", arbitrary_types_allowed=True))
class WorkerDefinition(TypedDict, total=False):
    """A worker: the processor of one job name, with its schema and options."""

    processor: Required[Processor]
    """The async function that runs each job of this name."""
    schema: type[BaseModel]
    """Pydantic model of the payload; producers and the worker validate with it."""
    options: WorkerOptions
    """BullMQ worker options (``concurrency``, ``limiter``, lock and stall settings...)."""


@with_config(ConfigDict(extra="forbid", arbitrary_types_allowed=True))
class QueueDefinition(TypedDict, total=False):
    """A BullMQ queue and the workers (one per job name) that process its jobs."""

    options: QueueOptions
    """BullMQ queue options (``defaultJobOptions``)."""
    workers: Required[Mapping[str, WorkerDefinition]]
    """Job name → worker."""
