"""Runtime used by generated code: connections, queues, producers and workers.

Everything here is real, tested code; generated modules only bind it to the
names, schemas and processors of one definitions module.

The worker side (:class:`WorkerGroup`, :class:`QueueWorker` and their events)
is imported when first asked for: a process that only enqueues (an API
importing the generated producers) never loads it.
"""

import importlib
from typing import TYPE_CHECKING

from ..definitions.options import JobOptions
from ..job import Job
from .adding import DEFAULT_CHUNK_SIZE, BulkEnqueueError
from .connection import describe_connection
from .control import CleanableState, JobControlError, JobLockedError, JobStateError, ListableState
from .events import (
    JobActive,
    JobCompleted,
    JobDelayed,
    JobEvent,
    JobFailed,
    JobProgressed,
    JobRemoved,
    JobStalled,
    JobWaiting,
    JobWaitingChildren,
    Subscription,
)
from .flows import FlowError, FlowJob, FlowNode, add_flow
from .handles import EnqueuedJob, InvalidResultError, JobRef
from .health import WorkerHealthReport
from .listening import Callback, ProgressCallback, ResultCallback
from .moves import MovedJobs, moved_jobs_left
from .producer import BulkValidationError, InvalidJobOptionsError, Producer
from .queue import JobCounts, JobFailedError, JobNotFoundError, JobSnapshot, JobState, QueueHandle
from .registry import Runtime
from .routes import JobRoute
from .scheduler_view import SchedulerInfo
from .stored import JobPage, StoredJob

if TYPE_CHECKING:
    from .group import WorkerGroup
    from .worker.events import JobInfo, RouteStats, WorkerListener, WorkerState
    from .worker.queue_worker import CloseResult, QueueWorker

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "BulkEnqueueError",
    "BulkValidationError",
    "Callback",
    "CleanableState",
    "CloseResult",
    "EnqueuedJob",
    "FlowError",
    "FlowJob",
    "FlowNode",
    "InvalidJobOptionsError",
    "InvalidResultError",
    "Job",
    "JobActive",
    "JobCompleted",
    "JobControlError",
    "JobCounts",
    "JobDelayed",
    "JobEvent",
    "JobFailed",
    "JobFailedError",
    "JobInfo",
    "JobLockedError",
    "JobNotFoundError",
    "JobOptions",
    "JobPage",
    "JobProgressed",
    "JobRef",
    "JobRemoved",
    "JobRoute",
    "JobSnapshot",
    "JobStalled",
    "JobState",
    "JobStateError",
    "JobWaiting",
    "JobWaitingChildren",
    "ListableState",
    "MovedJobs",
    "Producer",
    "ProgressCallback",
    "QueueHandle",
    "QueueWorker",
    "ResultCallback",
    "RouteStats",
    "Runtime",
    "SchedulerInfo",
    "StoredJob",
    "Subscription",
    "WorkerGroup",
    "WorkerHealthReport",
    "WorkerListener",
    "WorkerState",
    "add_flow",
    "describe_connection",
    "moved_jobs_left",
]

_LAZY = {
    "WorkerGroup": "group",
    "JobInfo": "worker.events",
    "RouteStats": "worker.events",
    "WorkerListener": "worker.events",
    "WorkerState": "worker.events",
    "CloseResult": "worker.queue_worker",
    "QueueWorker": "worker.queue_worker",
}
"""The worker side's names, and the module of each: imported when first asked for."""


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
