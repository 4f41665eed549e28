"""What the deployment files need beyond the definitions: names, commands, ports, sizes.

Read from ``[tool.bullmq-codegen.deploy]`` in pyproject.toml (every key optional):

| key | default |
|---|---|
| ``name`` | ``[project].name`` of pyproject.toml, else the project directory's name |
| ``apiCommand`` | none: no API app/service (set it to deploy one, e.g. ``python -m app.api``) |
| ``python`` | PM2: the interpreter that ran ``deploy``; systemd: ``<workdir>/.venv/bin/python`` |
| ``appDir`` | ``.`` (where the processes run, relative to the project) |
| ``image`` | ``<name>:latest`` (compose, kubernetes) |
| ``apiPort`` | 8000 |
| ``healthPort`` | 8081 (the workers' health server, for probes) |
| ``workerInstances`` | 2 |
| ``user`` | ``<name>`` (systemd: a non-root user) |
| ``workdir`` | ``/srv/<name>`` (systemd) |
| ``env`` | none (extra environment of every process; wins over derived values) |

``python`` is a path or a command (``uv run python``); it applies to PM2 and
systemd. Containers always run the image's ``python`` (its locked virtual
environment is first on ``PATH``). An ``apiCommand`` that starts with
``python`` runs with that same interpreter.

The graceful shutdown timeout and the Redis start timeout come from
``[tool.bullmq-codegen.workers]`` (``gracefulShutdownTimeout``, 30000 ms;
``redisTimeout``, 60000 ms): every stop timeout is set 5 s above the first, the
Kubernetes startup probe allows 30 s more than the second.
"""

from __future__ import annotations

import math
import os
import re
import shlex
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from ..errors import BullMQCodegenError

__all__ = ["DeployError", "DeploySettings"]

_WORKERS_ARGS = ("-m", "bullmq_codegen", "workers", "start")
_PYTHON_WORDS = ("python", "python3")


class DeployError(BullMQCodegenError):
    """The deployment settings cannot be used; the message says which."""


@dataclass(frozen=True, slots=True)
class DeploySettings:
    """The values every deployment target is rendered with."""

    name: str
    api_command: str = ""
    """The API process's command; empty: no API app."""
    python: str = ""
    """The ``python`` setting as written; empty: the default of each target."""
    interpreter: str = ""
    """The interpreter that ran ``deploy`` (absolute, symlinks kept): PM2's default."""
    image: str = ""
    api_port: int = 8000
    health_port: int = 8081
    worker_instances: int = 2
    user: str = ""
    workdir: str = ""
    env: dict[str, str] = field(default_factory=dict[str, str])
    graceful_shutdown_ms: int = 30_000
    redis_timeout_ms: int = 60_000
    app_dir: str = "."

    @property
    def stop_timeout_seconds(self) -> int:
        """The graceful timeout plus 5 s: the supervisor's kill comes after our own."""
        return self.graceful_shutdown_ms // 1000 + 5

    @property
    def startup_seconds(self) -> int:
        """How long a worker may take to become ready: the Redis start timeout plus 30 s."""
        return math.ceil(self.redis_timeout_ms / 1000) + 30

    def host_python(self, target: str) -> list[str]:
        """The interpreter command of a process on a host (``pm2`` or ``systemd``)."""
        if self.python:
            return shlex.split(self.python)
        if target == "systemd":
            return [f"{self.workdir}/.venv/bin/python"]
        return [self.interpreter]

    def workers_command(self, python: list[str]) -> list[str]:
        """How a worker process starts with ``python`` (it refuses stale generated code)."""
        return [*python, *_WORKERS_ARGS]

    def api(self, python: list[str]) -> list[str]:
        """The API command, its leading ``python`` replaced by ``python``; empty: no API."""
        words = shlex.split(self.api_command)
        if words and words[0] in _PYTHON_WORDS:
            return [*python, *words[1:]]
        return words

    @classmethod
    def load(
        cls,
        table: dict[str, Any],
        workers: dict[str, Any],
        project_dir: Path,
        interpreter: str | None = None,
    ) -> DeploySettings:
        """Settings from the ``deploy`` and ``workers`` tables, with the defaults above.

        ``interpreter`` defaults to this process's own (``sys.executable``).
        """
        known = {
            "name",
            "apiCommand",
            "python",
            "image",
            "apiPort",
            "healthPort",
            "workerInstances",
            "user",
            "workdir",
            "env",
            "appDir",
        }
        unknown = sorted(set(table) - known)
        if unknown:
            raise DeployError(
                f"unknown key(s) {', '.join(unknown)} in [tool.bullmq-codegen.deploy] (known: {', '.join(sorted(known))})"
            )
        name = str(table.get("name") or _project_name(project_dir))
        if not re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?", name):
            raise DeployError(
                f"deployment name {name!r} must be lowercase letters, digits and '-' (set "
                "name under [tool.bullmq-codegen.deploy])"
            )
        python = _text(table, "python")
        if python and not shlex.split(python):
            raise DeployError("[tool.bullmq-codegen.deploy] python must name an interpreter")
        interpreter = interpreter or sys.executable
        return cls(
            name=name,
            api_command=_text(table, "apiCommand"),
            python=python,
            interpreter=os.path.abspath(interpreter) if interpreter else "",  # symlinks kept
            image=str(table.get("image") or f"{name}:latest"),
            api_port=_whole(table, "apiPort", 8000),
            health_port=_whole(table, "healthPort", 8081),
            worker_instances=_whole(table, "workerInstances", 2),
            user=str(table.get("user") or name),
            workdir=str(table.get("workdir") or f"/srv/{name}"),
            env=_env(table),
            graceful_shutdown_ms=_whole(workers, "gracefulShutdownTimeout", 30_000, "workers"),
            redis_timeout_ms=_whole(workers, "redisTimeout", 60_000, "workers"),
            app_dir=str(table.get("appDir", ".")),
        )


def _text(table: dict[str, Any], key: str) -> str:
    value: object = table.get(key, "")
    if not isinstance(value, str):
        raise DeployError(f"[tool.bullmq-codegen.deploy] {key} must be a string, not {value!r}")
    return value.strip()


def _whole(table: dict[str, Any], key: str, default: int, section: str = "deploy") -> int:
    value: object = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise DeployError(
            f"[tool.bullmq-codegen.{section}] {key} must be a whole number, not {value!r}"
        )
    return int(value)


def _env(table: dict[str, Any]) -> dict[str, str]:
    raw: object = table.get("env", {})
    message = "[tool.bullmq-codegen.deploy] env must be a table of strings"
    if not isinstance(raw, dict):
        raise DeployError(message)
    env = cast("dict[str, object]", raw)
    if not all(isinstance(value, str | int) for value in env.values()):
        raise DeployError(message)
    return {key: str(value) for key, value in env.items()}


def _project_name(project_dir: Path) -> str:
    pyproject = project_dir / "pyproject.toml"
    if pyproject.is_file():
        with pyproject.open("rb") as stream:
            name = tomllib.load(stream).get("project", {}).get("name")
        if isinstance(name, str) and name:
            return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return re.sub(r"[^a-z0-9-]+", "-", project_dir.resolve().name.lower()).strip("-") or "app"
