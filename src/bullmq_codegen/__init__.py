"""bullmq-codegen: define BullMQ jobs once, get typed queues, producers and workers.

A definitions module imports what it needs from here::

    from bullmq_codegen import Job, create_queue_config
"""

from ._version import __version__
from .definitions import (
    DEFAULT_PREFIX,
    BackoffOptions,
    ConnectionSpec,
    DeduplicationOptions,
    JobOptions,
    KeepJobs,
    Processor,
    QueueConfig,
    QueueDefinition,
    QueueOptions,
    RateLimiterOptions,
    RedisConnectionOptions,
    RemoveOnFinish,
    WorkerDefinition,
    WorkerOptions,
    create_queue_config,
)
from .errors import BullMQCodegenError, DefinitionError, Problem
from .job import Job

__all__ = [
    "DEFAULT_PREFIX",
    "BackoffOptions",
    "BullMQCodegenError",
    "ConnectionSpec",
    "DeduplicationOptions",
    "DefinitionError",
    "Job",
    "JobOptions",
    "KeepJobs",
    "Problem",
    "Processor",
    "QueueConfig",
    "QueueDefinition",
    "QueueOptions",
    "RateLimiterOptions",
    "RedisConnectionOptions",
    "RemoveOnFinish",
    "WorkerDefinition",
    "WorkerOptions",
    "__version__",
    "create_queue_config",
]
