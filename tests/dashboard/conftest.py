"""Fixtures of the dashboard tests: the dashboard case generated and imported against the
suite's Redis, a flag file that makes its mail jobs fail while it exists, the dashboard app as an
in-process HTTP client, and bullmq-py's own Queue on ``mail``."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from bullmq import Queue

from bullmq_codegen import BullMQCodeGen
from bullmq_codegen.dashboard import create_app
from bullmq_codegen.testing import RedisSource

from ..helpers import import_fresh, purge_modules

CASE = Path(__file__).parent / "case"


@pytest.fixture
def case_root(tmp_path: Path) -> Path:
    """A copy of the dashboard case with its code generated."""
    root = tmp_path / "case"
    shutil.copytree(CASE, root, ignore=shutil.ignore_patterns("__pycache__", "generated"))
    BullMQCodeGen(config=root / "dashcase" / "jobs.py").generate()
    return root


@pytest.fixture
def fail_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """While this file exists, mail jobs fail (``smtp server down``)."""
    flag = tmp_path / "fail-mail"
    monkeypatch.setenv("DASH_FAIL_FLAG", str(flag))
    return flag


@pytest.fixture
async def case(case_root: Path, redis_env: RedisSource) -> AsyncIterator[ModuleType]:
    """The case's generated package, imported against the suite's Redis."""
    package = import_fresh(case_root, "dashcase.generated")
    yield package
    await package.close_connections()
    purge_modules("dashcase")


def client_of(app: Any, base: str = "http://dash") -> httpx.AsyncClient:
    """An HTTP client of ``app`` (in-process ASGI; Redis is the real one)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base)


@pytest.fixture
async def dash(case: ModuleType) -> AsyncIterator[httpx.AsyncClient]:
    """The dashboard of the case, as a client."""
    async with client_of(create_app(case.queues.runtime)) as client:
        yield client


@pytest.fixture
async def raw_mail(redis_env: RedisSource, prefix: str) -> AsyncIterator[Queue]:
    """bullmq-py's own Queue on ``mail``: adds jobs as an older deploy (or Node) would."""
    queue = Queue("mail", {"connection": redis_env.url, "prefix": prefix})
    yield queue
    await queue.close()
