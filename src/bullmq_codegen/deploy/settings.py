"""What the deployment files need beyond the definitions: names, commands, ports, sizes.

Read from ``[tool.bullmq-codegen.deploy]`` in pyproject.toml (every key optional):

| key | default |
|---|---|
| ``name`` | ``[project].name`` of pyproject.toml, else the project directory's name |
| ``apiCommand`` | ``python -m <top package of the definitions>.api`` |
| ``python`` | ``python`` (the interpreter of the deployed environment; systemd: ``<workdir>/.venv/bin/python``) |
| ``appDir`` | ``.`` (where the processes run, relative to the project) |
| ``image`` | ``<name>:latest`` (compose, kubernetes) |
| ``apiPort`` | 8000 |
| ``healthPort`` | 8081 (the workers' health server, for probes) |
| ``workerInstances`` | 2 |
| ``user`` | ``<name>`` (systemd: a non-root user) |
| ``workdir`` | ``/srv/<name>`` (systemd) |
| ``env`` | ``{REDIS_HOST = "redis"}`` (extra environment of every process) |

The graceful shutdown timeout comes from ``[tool.bullmq-codegen.workers]``
(``gracefulShutdownTimeout``, 30000 ms): every stop timeout is set 5 s above it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from ..errors import BullMQCodegenError

__all__ = ["DeployError", "DeploySettings"]


class DeployError(BullMQCodegenError):
    """The deployment settings cannot be used; the message says which."""


@dataclass(frozen=True, slots=True)
class DeploySettings:
    """The values every deployment target is rendered with."""

    name: str
    api_command: str
    python: str = "python"
    image: str = ""
    api_port: int = 8000
    health_port: int = 8081
    worker_instances: int = 2
    user: str = ""
    workdir: str = ""
    env: dict[str, str] = field(default_factory=dict[str, str])
    graceful_shutdown_ms: int = 30_000
    app_dir: str = "."

    @property
    def systemd_workers_command(self) -> str:
        """The workers command with an absolute interpreter, as systemd wants it."""
        python = (
            self.python
            if self.python.startswith("/")
            else f"{self.workdir}/.venv/bin/{self.python}"
        )
        return " ".join([python, *self.workers_command[1:]])

    @property
    def stop_timeout_seconds(self) -> int:
        """The graceful timeout plus 5 s: the supervisor's kill comes after our own."""
        return self.graceful_shutdown_ms // 1000 + 5

    @property
    def workers_command(self) -> list[str]:
        """How a worker process starts (it refuses stale generated code)."""
        return [self.python, "-m", "bullmq_codegen", "workers", "start"]

    @classmethod
    def load(
        cls,
        table: dict[str, Any],
        workers: dict[str, Any],
        project_dir: Path,
        definitions_module: str,
    ) -> DeploySettings:
        """Settings from the ``deploy`` and ``workers`` tables, with the defaults above."""
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
        raw_env: object = table.get("env", {"REDIS_HOST": "redis"})
        if not isinstance(raw_env, dict):
            raise DeployError("[tool.bullmq-codegen.deploy] env must be a table of strings")
        env = cast("dict[str, object]", raw_env)
        if not all(isinstance(value, str | int) for value in env.values()):
            raise DeployError("[tool.bullmq-codegen.deploy] env must be a table of strings")
        timeout = workers.get("gracefulShutdownTimeout", 30_000)
        return cls(
            name=name,
            api_command=str(
                table.get("apiCommand") or f"python -m {definitions_module.split('.')[0]}.api"
            ),
            python=str(table.get("python", "python")),
            image=str(table.get("image") or f"{name}:latest"),
            api_port=int(table.get("apiPort", 8000)),
            health_port=int(table.get("healthPort", 8081)),
            worker_instances=int(table.get("workerInstances", 2)),
            user=str(table.get("user") or name),
            workdir=str(table.get("workdir") or f"/srv/{name}"),
            env={key: str(value) for key, value in env.items()},
            graceful_shutdown_ms=int(timeout),
            app_dir=str(table.get("appDir", ".")),
        )


def _project_name(project_dir: Path) -> str:
    pyproject = project_dir / "pyproject.toml"
    if pyproject.is_file():
        with pyproject.open("rb") as stream:
            name = tomllib.load(stream).get("project", {}).get("name")
        if isinstance(name, str) and name:
            return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return re.sub(r"[^a-z0-9-]+", "-", project_dir.resolve().name.lower()).strip("-") or "app"
