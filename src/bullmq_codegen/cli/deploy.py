"""``bullmq-codegen deploy pm2|compose|systemd|kubernetes [--out DIR]``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import BullMQCodegenError
from .common import ConfigOption, load_pyproject_table, report, say

__all__ = ["deploy"]


def deploy(
    target: Annotated[str, typer.Argument(help="pm2, compose, systemd or kubernetes")],
    config: ConfigOption = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Where to write (default deploy/).")
    ] = Path("deploy"),
) -> None:
    """Write the deployment file of TARGET (settings: \\[tool.bullmq-codegen.deploy] in pyproject.toml)."""
    from ..deploy import TARGETS, DeployError, DeploySettings, render_target
    from ..generator import BullMQCodeGen
    from ..generator.output import write_files
    from ..generator.settings import find_pyproject

    if target not in TARGETS:
        report(DeployError(f"unknown target {target!r}: use {', '.join(TARGETS)}"))
        raise typer.Exit(2)
    try:
        generator = BullMQCodeGen.from_project(config=config)
        model = generator.load()
        pyproject = find_pyproject(Path.cwd())
        project_dir = pyproject.parent if pyproject is not None else Path.cwd()
        settings = DeploySettings.load(
            load_pyproject_table("deploy"),
            load_pyproject_table("workers"),
            project_dir,
            model.module,
        )
        out_dir = out if out.is_absolute() else Path.cwd() / out
        name, text = render_target(target, model, settings, out_dir, project_dir)
        result = write_files(out_dir, {name: text}, pattern=name)
    except BullMQCodegenError as error:
        report(error)
        raise typer.Exit(2) from None
    written = "wrote" if result.written else "up to date:"
    say.print(f"{written} {out_dir / name}", markup=False)
