"""Where the soak runs: the machine and settings it reports, and the code it runs."""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from ..harness import ROOT, environment_info

__all__ = ["checkout", "environment"]


def checkout(ref: str, into: Path) -> Path:
    """``src/`` as committed at ``ref``, unpacked into ``into``: its ``src`` folder."""
    into.mkdir()
    archive = subprocess.run(
        ["git", "archive", ref, "src"], cwd=ROOT, capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into / "src"


def environment(redis_executable: str, args: argparse.Namespace) -> dict[str, Any]:
    """What the soak ran on, and with which settings."""
    info = environment_info(redis_executable, None)
    del info["node"], info["node_bullmq"]

    def git(*command: str) -> str:
        return subprocess.run(
            ["git", *command], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        **info,
        "cpu": model,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_average_at_start": os.getloadavg(),
        "commit": git("rev-parse", "--short", args.code or "HEAD"),
        "code": f"committed at {args.code}"
        if args.code
        else "working tree (uncommitted changes included)",
        "worker_maintenance_last_commit": git(
            "log",
            "-1",
            "--format=%h %s",
            args.code or "HEAD",
            "--",
            "src/bullmq_codegen/runtime/worker/maintenance.py",
        ),
        "settings": {
            key: (str(value) if isinstance(value, Path) else value)
            for key, value in vars(args).items()
        },
    }
