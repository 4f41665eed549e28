"""A real PM2 for tests: installed once with npm into the user's cache (not the repository)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

__all__ = ["PM2_VERSION", "pm2_binary"]

PM2_VERSION = "7.0.4"


def pm2_binary() -> Path:
    """The ``pm2`` program, installed with npm when missing; skips without Node.js and npm."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are needed to run PM2")
    cache = (
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        / "bullmq-codegen-tests"
        / f"pm2-{PM2_VERSION}"
    )
    binary = cache / "node_modules" / ".bin" / "pm2"
    if not binary.exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--silent", "--no-audit", "--no-fund", f"pm2@{PM2_VERSION}"],
            cwd=cache,
            check=True,
            timeout=300,
        )
    return binary
