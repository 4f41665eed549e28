"""Rendering the deployment files of a project from its definitions and deploy settings."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import jinja2

from .._version import __version__
from ..generator.render import GENERATED_BY
from ..loader.model import DefinitionsModel
from .settings import DeploySettings

__all__ = ["TARGETS", "render_target"]

TARGETS: dict[str, str] = {
    "pm2": "ecosystem.config.js",
    "compose": "docker-compose.yml",
    "systemd": "workers.service",
    "kubernetes": "kubernetes.yaml",
}
"""Deployment target → the template (and, but for systemd, the file name) it renders."""


def file_name(target: str, settings: DeploySettings) -> str:
    """The name of the file ``target`` writes."""
    return f"{settings.name}-workers.service" if target == "systemd" else TARGETS[target]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", name).lower()).strip(
        "-"
    )


def render_target(
    target: str, model: DefinitionsModel, settings: DeploySettings, out_dir: Path, project_dir: Path
) -> tuple[str, str]:
    """``(file name, content)`` of ``target``'s deployment file."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("bullmq_codegen.deploy", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    name = file_name(target, settings)
    context: dict[str, Any] = {
        "s": settings,
        "file": name,
        "header": f"{GENERATED_BY} {__version__} from {model.source}. DO NOT EDIT.",
        "api_command": shlex.split(settings.api_command),
        "root": Path(_relative(project_dir / settings.app_dir, out_dir)).as_posix(),
        "groups": [{"queue": queue.name, "slug": _slug(queue.name)} for queue in model.queues],
    }
    return name, environment.get_template(TARGETS[target] + ".jinja").render(context)


def _relative(target: Path, start: Path) -> str:
    import os

    return os.path.relpath(target.resolve(), start.resolve())
