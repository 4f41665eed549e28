"""The shop application, generated once, and imported fresh for each test."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from bullmq_codegen import BullMQCodeGen
from bullmq_codegen.runtime import Runtime
from bullmq_codegen.testing import RedisSource

from ..helpers import import_fresh, purge_modules

HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def shop_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the shop package with its generated code."""
    root = tmp_path_factory.mktemp("shop")
    shutil.copytree(HERE / "shop", root / "shop", ignore=shutil.ignore_patterns("__pycache__"))
    BullMQCodeGen(config=root / "shop" / "jobs.py").generate()
    return root


@pytest.fixture
def shop(shop_root: Path, restore_sys_path: None) -> Iterator[ModuleType]:
    """``shop.generated``, imported afresh (its runtime still points at port 1)."""
    yield import_fresh(shop_root, "shop.generated")
    purge_modules("shop")


@pytest.fixture
async def shop_on_redis(
    shop: ModuleType, redis: RedisSource, prefix: str
) -> AsyncIterator[ModuleType]:
    """``shop.generated`` redirected to the suite's Redis under the test's prefix."""
    runtime: Runtime = shop.queues.runtime
    async with runtime.redirected(connection=redis.url, prefix=prefix):
        yield shop
