"""Fixtures of the dashboard tests: the dashboard case generated and imported against the
suite's Redis, and a flag file that makes its mail jobs fail while it exists."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import pytest

from bullmq_codegen import BullMQCodeGen
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
