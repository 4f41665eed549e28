"""Fixtures shared by the whole suite: a Redis of the suite's own and isolated key prefixes.

Redis comes from REDIS_URL when it is set (each test then uses a unique key
prefix and nothing is flushed), else from a throwaway redis-server started for
the session in a temporary directory (see ``bullmq_codegen.testing``).
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from types import ModuleType
from urllib.parse import urlsplit

import pytest

from bullmq_codegen.testing import RedisSource, redis_source

from .helpers import EXAMPLES, import_fresh, purge_modules


def pytest_report_header() -> list[str]:
    import os

    from bullmq_codegen.testing import find_redis_server

    if os.environ.get("REDIS_URL"):
        return ["redis: REDIS_URL (a unique key prefix per test, nothing flushed)"]
    found = find_redis_server()
    return [f"redis: a throwaway {found[1] if found else 'redis-server (none found!)'}"]


@pytest.fixture(scope="session")
def redis() -> Iterator[RedisSource]:
    """The suite's Redis (REDIS_URL, or a throwaway server for the session)."""
    with redis_source() as source:
        yield source


@pytest.fixture
def prefix() -> str:
    """A BullMQ key prefix no other test uses."""
    return f"bcg-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def redis_env(redis: RedisSource, prefix: str, monkeypatch: pytest.MonkeyPatch) -> RedisSource:
    """Environment the example and the test cases read their connection and prefix from."""
    parts = urlsplit(redis.url)
    monkeypatch.setenv("REDIS_HOST", parts.hostname or "localhost")
    monkeypatch.setenv("REDIS_PORT", str(parts.port or 6379))
    monkeypatch.setenv("REDIS_DB", parts.path.strip("/") or "0")
    if parts.password:
        monkeypatch.setenv("REDIS_PASSWORD", parts.password)
    else:
        monkeypatch.delenv("REDIS_PASSWORD", raising=False)
    monkeypatch.setenv("BULLMQ_TEST_REDIS_URL", redis.url)
    monkeypatch.setenv("BULLMQ_PREFIX", prefix)
    return redis


@pytest.fixture
async def example(redis_env: RedisSource) -> AsyncIterator[ModuleType]:
    """The example's generated package, imported fresh against the suite's Redis."""
    package = import_fresh(EXAMPLES, "app.queues.generated")
    yield package
    await package.close_connections()
    purge_modules("app")


@pytest.fixture
def restore_sys_path() -> Iterator[None]:
    saved = list(sys.path)
    yield
    sys.path[:] = saved
