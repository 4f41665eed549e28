"""Helpers of the test suite (no fixtures here)."""

from __future__ import annotations

import asyncio
import importlib
import shutil
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType

from bullmq_codegen import BullMQCodeGen

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CASES = Path(__file__).resolve().parent / "cases"


def purge_modules(package: str) -> None:
    """Forget ``package`` and its submodules, so the next import runs them again."""
    for name in [name for name in sys.modules if name == package or name.startswith(package + ".")]:
        del sys.modules[name]


def import_fresh(root: Path, module: str) -> ModuleType:
    """Import ``module`` from ``root`` anew (its definitions re-read the environment)."""
    purge_modules(module.split(".")[0])
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module(module)


def generated_case(name: str, tmp_path: Path, definitions: str) -> Path:
    """Copy case ``name`` into ``tmp_path``, generate its code; return the copy's root."""
    root = tmp_path / name
    shutil.copytree(CASES / name, root)
    BullMQCodeGen(config=root / definitions).generate()
    return root


async def eventually(
    check: Callable[[], Awaitable[bool]], *, timeout: float = 10.0, interval: float = 0.02
) -> None:
    """Wait until ``check()`` is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)
