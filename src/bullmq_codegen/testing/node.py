"""Node packages for interop tests and benchmarks, installed once from the npm registry.

:func:`node_bullmq` gives Node BullMQ and ioredis; :func:`node_typescript` adds
Zod, TypeScript and Node's type declarations, for the exported TypeScript
producers. Each set is installed into its own folder of
``$XDG_CACHE_HOME/bullmq-codegen-tests`` on first use (under a lock, so parallel
test processes install it once), and reused.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "NODE_BULLMQ",
    "NODE_TYPESCRIPT",
    "NODE_TYPES_NODE",
    "NODE_ZOD",
    "node_bullmq",
    "node_typescript",
    "tsc_command",
]

NODE_BULLMQ = "6.7.0"
"""The Node BullMQ release the interop tests and benchmarks run."""
NODE_ZOD = "4.6.7"
"""The Zod release the exported TypeScript is tested with (it targets Zod 4)."""
NODE_TYPESCRIPT = "5.9.3"
"""The TypeScript release that type-checks the exported TypeScript."""
NODE_TYPES_NODE = "20.19.43"
"""Node's type declarations (``@types/node``) for the type checks: Node 20's API."""


def node_bullmq(version: str = NODE_BULLMQ) -> Path | None:
    """The ``node_modules`` holding BullMQ ``version`` (and ioredis), or ``None`` without Node
    (or when the install fails)."""
    return _installed(f"node-bullmq-{version}", {"bullmq": version, "ioredis": "5"})


def node_typescript() -> Path | None:
    """The ``node_modules`` holding BullMQ, ioredis, Zod, TypeScript and ``@types/node`` at the
    pinned versions, or ``None`` without Node (or when the install fails)."""
    return _installed(
        f"node-ts-bullmq-{NODE_BULLMQ}-zod-{NODE_ZOD}-typescript-{NODE_TYPESCRIPT}",
        {
            "bullmq": NODE_BULLMQ,
            "ioredis": "5",
            "zod": NODE_ZOD,
            "typescript": NODE_TYPESCRIPT,
            "@types/node": NODE_TYPES_NODE,
        },
    )


def tsc_command(node_modules: Path) -> list[str]:
    """The command running the TypeScript compiler of ``node_modules`` (add its arguments)."""
    return ["node", str(node_modules / "typescript" / "bin" / "tsc")]


def _installed(name: str, packages: Mapping[str, str]) -> Path | None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        return None
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "bullmq-codegen-tests"
    target = cache / name
    modules = target / "node_modules"
    if all((modules / package).is_dir() for package in packages):
        return modules
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test process may be installing it
        if all((modules / package).is_dir() for package in packages):
            return modules
        if not _npm_install(cache, target, packages):
            return None
    return modules


def _npm_install(cache: Path, target: Path, packages: Mapping[str, str]) -> bool:
    """Install ``packages`` into a fresh folder, then move it to ``target`` (whole or not at all)."""
    staging = Path(tempfile.mkdtemp(prefix=f"{target.name}.", dir=cache))
    try:
        completed = subprocess.run(
            [
                "npm",
                "install",
                "--silent",
                "--no-audit",
                "--no-fund",
                *(f"{package}@{version}" for package, version in packages.items()),
            ],
            cwd=staging,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if completed.returncode != 0:
            return False
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        return True
    finally:
        shutil.rmtree(staging, ignore_errors=True)
