"""Helpers for testing code built on bullmq-codegen: a Redis of one's own."""

from .redis_server import (
    RedisServer,
    RedisSource,
    RedisUnavailableError,
    find_redis_server,
    free_port,
    redis_source,
)

__all__ = [
    "RedisServer",
    "RedisSource",
    "RedisUnavailableError",
    "find_redis_server",
    "free_port",
    "redis_source",
]
