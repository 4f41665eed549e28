"""Node BullMQ for interop tests and benchmarks, installed once from the npm registry."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["NODE_BULLMQ", "node_bullmq"]

NODE_BULLMQ = "6.7.0"
"""The Node BullMQ release the interop tests and benchmarks run."""


def node_bullmq(version: str = NODE_BULLMQ) -> Path | None:
    """The ``node_modules`` holding BullMQ ``version`` (and ioredis), or ``None`` without Node.

    Installed into ``$XDG_CACHE_HOME/bullmq-codegen-tests`` on first use.
    """
    if shutil.which("node") is None or shutil.which("npm") is None:
        return None
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "bullmq-codegen-tests"
    target = cache / f"node-bullmq-{version}"
    if not (target / "node_modules" / "bullmq").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        completed = subprocess.run(
            [
                "npm",
                "install",
                "--silent",
                "--no-audit",
                "--no-fund",
                f"bullmq@{version}",
                "ioredis@5",
            ],
            cwd=target,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if completed.returncode != 0:
            return None
    return target / "node_modules"
