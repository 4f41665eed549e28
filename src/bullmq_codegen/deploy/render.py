"""Rendering the deployment files of a project from its definitions and deploy settings."""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import jinja2

from .._version import __version__
from ..generator.render import GENERATED_BY, template_environment
from ..loader.model import DefinitionsModel
from .environment import container_env, variables_read
from .settings import DeployError, DeploySettings

__all__ = ["TARGETS", "UV_IMAGE_VERSION", "queue_slug", "render_target"]

UV_IMAGE_VERSION = "0.13.9"
"""The ghcr.io/astral-sh/uv image the Dockerfile copies uv from (``--build-arg UV_VERSION``)."""

TARGETS: dict[str, tuple[str, ...]] = {
    "pm2": ("ecosystem.config.js",),
    "compose": ("docker-compose.yml", "Dockerfile", "Dockerfile.dockerignore"),
    "systemd": ("workers.service",),
    "kubernetes": ("kubernetes.yaml",),
    "docker": ("Dockerfile", "Dockerfile.dockerignore"),
}
"""Deployment target → the templates it renders (compose builds the image, so it writes the
Dockerfile too)."""


_STARTUP_PERIOD = 5
"""Seconds between the Kubernetes startup probe's tries."""


def _file_name(template: str, settings: DeploySettings) -> str:
    return f"{settings.name}-workers.service" if template == "workers.service" else template


def queue_slug(name: str) -> str:
    """``name`` as Kubernetes names it (``emailSend`` → ``email-send``)."""
    return re.sub(r"[^a-z0-9]+", "-", re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", name).lower()).strip(
        "-"
    )


def render_target(
    target: str,
    model: DefinitionsModel,
    settings: DeploySettings,
    *,
    out_dir: Path,
    project_dir: Path,
    definitions: Path,
) -> dict[str, str]:
    """File name → content of every file ``target`` writes into ``out_dir``.

    ``definitions`` is the definitions file, read for the environment variables it uses.
    """
    environment = template_environment(
        jinja2.PackageLoader("bullmq_codegen.deploy", "templates"),
        {"js": json.dumps, "shell": shlex.quote},
    )
    read = variables_read(definitions)
    context: dict[str, Any] = {
        "s": settings,
        "header": f"{GENERATED_BY} {__version__} from {model.source}. DO NOT EDIT.",
        "read": read,
        "container": container_env(read, settings.env),
        "root": _relative(project_dir / settings.app_dir, out_dir),
        "groups": [{"queue": queue.name, "slug": queue_slug(queue.name)} for queue in model.queues],
        "health_args": ["--health-port", str(settings.health_port), "--health-host", "0.0.0.0"],
        "redis_timeout_s": math.ceil(settings.redis_timeout_ms / 1000),
        "startup_period": _STARTUP_PERIOD,
        "startup_failures": math.ceil(settings.startup_seconds / _STARTUP_PERIOD),
    }
    templates = TARGETS[target]
    if "Dockerfile" in templates:
        context.update(_docker(settings, out_dir, project_dir))
    if target == "pm2":
        context.update(_pm2(settings, out_dir, project_dir))
    return {
        _file_name(template, settings): environment.get_template(template + ".jinja").render(
            context, file=_file_name(template, settings)
        )
        for template in templates
    }


def _pm2(settings: DeploySettings, out_dir: Path, project_dir: Path) -> dict[str, Any]:
    """The JavaScript of the PM2 apps' scripts: an interpreter inside the project is written
    relative to the file, so the project can move."""
    python = settings.host_python("pm2")
    if not python[0]:
        raise DeployError(
            "cannot tell which interpreter runs bullmq-codegen: set python under "
            "[tool.bullmq-codegen.deploy] (a path, or a command such as 'uv run python')"
        )

    def script(word: str) -> str:
        project = project_dir.absolute()
        inside = Path(word).is_relative_to(project) and out_dir.absolute().is_relative_to(project)
        if word == settings.interpreter and inside:
            relative = os.path.relpath(word, out_dir.absolute())
            return f"path.resolve(__dirname, {json.dumps(Path(relative).as_posix())})"
        return json.dumps(word)

    workers = settings.workers_command(python)
    api = settings.api(python)
    return {
        "workers_script": script(workers[0]),
        "workers_args": workers[1:],
        "api_script": script(api[0]) if api else "",
        "api_args": api[1:],
    }


def _docker(settings: DeploySettings, out_dir: Path, project_dir: Path) -> dict[str, Any]:
    """Where the image is built from, and with which Python."""
    if not (project_dir / "uv.lock").is_file():
        raise DeployError(
            f"no uv.lock in {project_dir}: the image installs the locked environment "
            "(run `uv lock`, and commit uv.lock)"
        )
    return {
        "python_version": _python_version(project_dir),
        "uv_version": UV_IMAGE_VERSION,
        "context": _relative(project_dir, out_dir),
        "dockerfile": _relative(out_dir / "Dockerfile", project_dir),
        "app_dir": Path("/app", settings.app_dir).as_posix(),
    }


def _python_version(project_dir: Path) -> str:
    """``major.minor`` of ``.python-version`` in the project, else of this interpreter."""
    pinned = project_dir / ".python-version"
    if pinned.is_file():
        found = re.match(r"\s*(\d+\.\d+)", pinned.read_text())
        if found:
            return found.group(1)
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def _relative(target: Path, start: Path) -> str:
    return Path(os.path.relpath(target.resolve(), start.resolve())).as_posix()
