"""The storefront example, which the README quotes: every usage function runs as shown."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from importlib import import_module
from types import ModuleType

import pytest

from bullmq_codegen import BullMQCodeGen
from bullmq_codegen.testing import RedisSource

from ..helpers import EXAMPLES, ROOT, import_fresh, purge_modules

DEFINITIONS = EXAMPLES / "storefront" / "jobs.py"


@pytest.fixture
async def store(
    redis_env: RedisSource, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ModuleType]:
    monkeypatch.setenv("REDIS_URL", redis_env.url)
    usage = import_fresh(EXAMPLES, "storefront.usage")
    generated = usage.__dict__["enqueue_place_order"].__module__
    generated = import_module(generated.rsplit(".", 1)[0])
    async with generated.create_workers():
        yield usage
    await generated.close_connections()
    purge_modules("storefront")


def test_the_generated_code_is_current() -> None:
    assert BullMQCodeGen(config=DEFINITIONS).check().current


async def test_typed_results(store: ModuleType) -> None:
    receipt = await store.typed_results()
    assert (receipt.order_id, receipt.total_cents) == (2, 500)


async def test_idempotency(store: ModuleType) -> None:
    await store.idempotency()


async def test_progress_and_listening(store: ModuleType) -> None:
    assert await store.progress() == 3
    assert await store.listening() == [2]


async def test_flows(store: ModuleType) -> None:
    assert await store.flows() == ["shelf-a", "shelf-b"]


async def test_custom_backoff(store: ModuleType) -> None:
    import storefront.jobs

    storefront.jobs.FLAKY_CARDS.add(11)
    assert await store.custom_backoff() == "paid-11"


async def test_bulk_and_queue_control(store: ModuleType) -> None:
    assert await store.bulk() == 1000
    await store.queue_control()
    schedulers = await store.catalog_queue.schedulers()
    assert sorted(scheduler.id for scheduler in schedulers) == ["daily-digest", "heartbeat"]


def test_the_readme_quotes_the_examples_as_they_are() -> None:
    readme = (ROOT / "README.md").read_text()
    quoted = re.findall(r"<!-- quoted from (\S+) -->\n```python\n(.*?)```", readme, re.DOTALL)
    assert len(quoted) >= 8
    for path, block in quoted:
        source = _lines((ROOT / path).read_text())
        for line in _lines(block):
            assert line in source, f"README block from {path}: {line!r} is not in the file"


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and line.strip() != "..."]
