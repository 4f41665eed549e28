"""The definitions API: what a queue-definitions module is written with."""

from .config import DEFAULT_PREFIX, QueueConfig, create_queue_config
from .connection import ConnectionSpec, RedisConnectionOptions
from .options import (
    BackoffOptions,
    DeduplicationOptions,
    JobOptions,
    KeepJobs,
    MetricsOptions,
    QueueOptions,
    RateLimiterOptions,
    RemoveOnFinish,
    ScheduleOptions,
    WorkerOptions,
)
from .shapes import BackoffStrategy, DeduplicationRule, Processor, QueueDefinition, WorkerDefinition
from .workers import define_worker

__all__ = [
    "DEFAULT_PREFIX",
    "BackoffOptions",
    "BackoffStrategy",
    "ConnectionSpec",
    "DeduplicationOptions",
    "DeduplicationRule",
    "JobOptions",
    "KeepJobs",
    "MetricsOptions",
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
    "create_queue_config",
    "define_worker",
]
