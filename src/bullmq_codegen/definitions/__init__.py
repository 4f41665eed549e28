"""The definitions API: what a queue-definitions module is written with."""

from .config import DEFAULT_PREFIX, QueueConfig, create_queue_config
from .connection import ConnectionSpec, RedisConnectionOptions
from .options import (
    BackoffOptions,
    DeduplicationOptions,
    JobOptions,
    KeepJobs,
    QueueOptions,
    RateLimiterOptions,
    RemoveOnFinish,
    WorkerOptions,
)
from .shapes import Processor, QueueDefinition, WorkerDefinition

__all__ = [
    "DEFAULT_PREFIX",
    "BackoffOptions",
    "ConnectionSpec",
    "DeduplicationOptions",
    "JobOptions",
    "KeepJobs",
    "Processor",
    "QueueConfig",
    "QueueDefinition",
    "QueueOptions",
    "RateLimiterOptions",
    "RedisConnectionOptions",
    "RemoveOnFinish",
    "WorkerDefinition",
    "WorkerOptions",
    "create_queue_config",
]
