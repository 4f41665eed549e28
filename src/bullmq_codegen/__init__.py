"""bullmq-codegen: define BullMQ jobs once, get typed queues, producers and workers.

A definitions module imports what it needs from here::

    from bullmq_codegen import Job, create_queue_config
"""

from typing import TYPE_CHECKING

from .definitions import (
    DEFAULT_PREFIX,
    BackoffOptions,
    BackoffStrategy,
    ConnectionSpec,
    DeduplicationOptions,
    DeduplicationRule,
    JobOptions,
    KeepJobs,
    MetricsOptions,
    Processor,
    QueueConfig,
    QueueDefinition,
    QueueOptions,
    RateLimiterOptions,
    RedisConnectionOptions,
    RemoveOnFinish,
    ScheduleOptions,
    WorkerDefinition,
    WorkerOptions,
    create_queue_config,
    define_worker,
)
from .errors import BullMQCodegenError, DefinitionError, Problem
from .job import Job

if TYPE_CHECKING:
    from ._version import __version__
    from .generator import BullMQCodeGen

__all__ = [
    "DEFAULT_PREFIX",
    "BackoffOptions",
    "BackoffStrategy",
    "BullMQCodeGen",
    "BullMQCodegenError",
    "ConnectionSpec",
    "DeduplicationOptions",
    "DeduplicationRule",
    "DefinitionError",
    "Job",
    "JobOptions",
    "KeepJobs",
    "MetricsOptions",
    "Problem",
    "Processor",
    "QueueConfig",
    "QueueDefinition",
    "QueueOptions",
    "RateLimiterOptions",
    "RedisConnectionOptions",
    "RemoveOnFinish",
    "ScheduleOptions",
    "WorkerDefinition",
    "WorkerOptions",
    "__version__",
    "create_queue_config",
    "define_worker",
]


def __getattr__(name: str) -> object:
    # The generator (Jinja, ruff) and the installed version (read with importlib.metadata)
    # load only when asked for: definitions modules and generated code import this package
    # at run time.
    if name == "BullMQCodeGen":
        from .generator import BullMQCodeGen

        return BullMQCodeGen
    if name == "__version__":
        from ._version import __version__

        return __version__
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
