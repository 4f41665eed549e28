"""Fixtures of the runner tests: the ops case (generated, imported, its records) and a Redis of
a test's own that it may stop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from redis.asyncio import Redis

from bullmq_codegen import create_queue_config
from bullmq_codegen.runtime import Runtime
from bullmq_codegen.testing import RedisServer, RedisSource, find_redis_server

from ..helpers import generated_case, import_fresh, purge_modules
from .support import Records, quick


@pytest.fixture
def ops_root(tmp_path: Path) -> Path:
    """The ops case (one queue, ``work``, of jobs that record their runs), generated."""
    return generated_case("ops", tmp_path, "ops/jobs.py")


@pytest.fixture
async def ops(ops_root: Path, redis_env: RedisSource) -> AsyncIterator[ModuleType]:
    """The ops case's generated package, imported against the suite's Redis."""
    package = import_fresh(ops_root, "ops.generated")
    yield package
    await package.close_connections()
    purge_modules("ops")


@pytest.fixture
async def records(redis_env: RedisSource, prefix: str) -> AsyncIterator[Records]:
    """The starts and finishes the ops jobs recorded."""
    client = Redis.from_url(redis_env.url, decode_responses=True)
    yield Records(client, prefix)
    await client.aclose()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own, with AOF on, that the test may stop and start."""
    found = find_redis_server()
    assert found is not None
    (tmp_path / "redis").mkdir()
    server = RedisServer(found[0], directory=tmp_path / "redis", persistent=True)
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
async def runtime(redis: RedisSource, prefix: str) -> AsyncIterator[Runtime]:
    """Two queues, ``a`` and ``b``, with a no-op worker each (the routes are ``support.ROUTES``);
    a test file that needs other queues defines its own ``runtime``."""
    config = create_queue_config(
        queues={
            "a": {"workers": {"quickA": {"processor": quick}}},
            "b": {"workers": {"quickB": {"processor": quick}}},
        },
        connection=redis.url,
        prefix=prefix,
    )
    runtime = Runtime(config)
    yield runtime
    await runtime.close()
