"""The ``bullmq_codegen`` pytest plugin: test an application's jobs on a real, throwaway Redis.

Installed with the package (the ``pytest11`` entry point); nothing to copy.
Name the generated package once::

    [tool.pytest.ini_options]
    bullmq_generated = "app.queues.generated"

(or override the ``bullmq_generated`` fixture to return the module). Then a
test that asks for ``bullmq_workers`` (or ``bullmq_runtime``) runs with the
generated producers, queues and workers pointed at the test Redis under a key
prefix of its own::

    async def test_sign_up(bullmq_workers: BullMQWorkers) -> None:
        await enqueue_after_sign_up_email(EmailSend(to="a@example.com", template="w"))
        report = await bullmq_workers.run_until_drained()
        assert len(report.completed) == 1

Fixtures:

* ``bullmq_redis`` (session): ``REDIS_URL`` when it is set, else a throwaway
  ``redis-server`` started for the session;
* ``bullmq_prefix``: a key prefix no other test uses;
* ``bullmq_generated``: the generated package (from the ``bullmq_generated`` ini option);
* ``bullmq_runtime``: the package's runtime, redirected to ``bullmq_redis``
  under ``bullmq_prefix`` for the test (its keys are deleted afterwards when
  the Redis is ``REDIS_URL``'s, someone else's);
* ``bullmq_workers``: runs the package's workers until their queues are drained.

The async fixtures need pytest-asyncio (``pip install pytest-asyncio``).
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

from ..runtime.group import WorkerGroup
from ..runtime.registry import Runtime
from .drain import BullMQWorkers
from .redis_server import RedisSource, redis_source

try:
    from pytest_asyncio import fixture as _async_fixture
except ImportError:  # pytest then says an async plugin is needed when one of them is used
    _async_fixture = pytest.fixture  # type: ignore[assignment]

__all__ = [
    "bullmq_generated",
    "bullmq_prefix",
    "bullmq_redis",
    "bullmq_runtime",
    "bullmq_workers",
    "generated_runtime",
]

INI_OPTION = "bullmq_generated"
_DELETE_BATCH = 500


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``bullmq_generated`` ini option."""
    parser.addini(
        INI_OPTION,
        "dotted name of the package bullmq-codegen generated (app.queues.generated): "
        "the bullmq_* fixtures point it at the test Redis",
        type="string",
        default="",
    )


def generated_runtime(package: ModuleType) -> Runtime:
    """The :class:`Runtime` of a generated package (its ``runtime``, or its ``queues.runtime``)."""
    runtime = getattr(package, "runtime", None)
    if not isinstance(runtime, Runtime):
        try:
            queues = importlib.import_module(f"{package.__name__}.queues")
        except ImportError:
            queues = None
        runtime = getattr(queues, "runtime", None)
    if not isinstance(runtime, Runtime):
        raise TypeError(
            f"{package.__name__} is not a package bullmq-codegen generated: it has no "
            "`runtime` (nor `queues.runtime`); name the generated package, the one with "
            "queues.py, producers.py and workers.py"
        )
    return runtime


@pytest.fixture(scope="session")
def bullmq_redis() -> Iterator[RedisSource]:
    """The tests' Redis: ``REDIS_URL``, else a throwaway ``redis-server`` for the session."""
    with redis_source() as source:
        yield source


@pytest.fixture
def bullmq_prefix() -> str:
    """A BullMQ key prefix no other test uses."""
    return f"bullmq-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def bullmq_generated(request: pytest.FixtureRequest) -> ModuleType:
    """The generated package named by the ``bullmq_generated`` ini option (override to choose)."""
    name = str(request.config.getini(INI_OPTION)).strip()
    if not name:
        pytest.fail(
            f'name your generated package: {INI_OPTION} = "app.queues.generated" under '
            "[tool.pytest.ini_options] in pyproject.toml (or [pytest] in pytest.ini), or "
            "override the bullmq_generated fixture to return the module",
            pytrace=False,
        )
    return importlib.import_module(name)


@_async_fixture
async def bullmq_runtime(
    bullmq_generated: ModuleType, bullmq_redis: RedisSource, bullmq_prefix: str
) -> AsyncIterator[Runtime]:
    """The generated package's runtime, pointed at ``bullmq_redis`` under ``bullmq_prefix``.

    Its producers, queues and workers use them for the test; the definitions'
    own connection is never used. On a shared Redis (``REDIS_URL``), the
    test's keys are deleted afterwards.
    """
    runtime = generated_runtime(bullmq_generated)
    async with runtime.redirected(connection=bullmq_redis.url, prefix=bullmq_prefix):
        yield runtime
        if bullmq_redis.shared:
            await _delete_keys(runtime, bullmq_prefix)


async def _delete_keys(runtime: Runtime, prefix: str) -> None:
    await runtime.close()  # the test's workers first: they write while they run
    client: Any = runtime.context(next(iter(runtime.config.queues))).client
    batch: list[str] = []
    async for key in client.scan_iter(match=f"{prefix}:*", count=_DELETE_BATCH):
        batch.append(key)
        if len(batch) >= _DELETE_BATCH:
            await client.unlink(*batch)
            batch.clear()
    if batch:
        await client.unlink(*batch)


@pytest.fixture
def bullmq_workers(bullmq_generated: ModuleType, bullmq_runtime: Runtime) -> BullMQWorkers:
    """Runs the generated package's workers in-process until their queues are drained."""
    create_workers: Callable[..., WorkerGroup] | None = getattr(
        bullmq_generated, "create_workers", None
    )
    if create_workers is None:
        raise TypeError(f"{bullmq_generated.__name__} has no create_workers()")
    return BullMQWorkers(create_workers, bullmq_runtime)
