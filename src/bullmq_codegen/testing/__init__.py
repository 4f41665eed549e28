"""Helpers for testing code built on bullmq-codegen: a Redis of one's own, workers run until
their queues are drained, processors called directly.

The pytest fixtures live in :mod:`bullmq_codegen.testing.pytest_plugin`, registered
as the ``bullmq_codegen`` pytest plugin when the package is installed. This
module does not import pytest.
"""

from .drain import (
    BullMQWorkers,
    DrainReport,
    DrainTimeoutError,
    FailedJob,
    JobsFailedError,
    run_until_drained,
)
from .processors import ProcessorRun, record_processor, run_processor
from .redis_server import (
    RedisServer,
    RedisSource,
    RedisUnavailableError,
    find_redis_server,
    free_port,
    redis_source,
)

__all__ = [
    "BullMQWorkers",
    "DrainReport",
    "DrainTimeoutError",
    "FailedJob",
    "JobsFailedError",
    "ProcessorRun",
    "RedisServer",
    "RedisSource",
    "RedisUnavailableError",
    "find_redis_server",
    "free_port",
    "record_processor",
    "redis_source",
    "run_processor",
    "run_until_drained",
]
