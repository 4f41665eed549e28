"""``bullmq-codegen deploy pm2|compose|systemd|kubernetes|docker [--out DIR]``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import BullMQCodegenError
from .common import ConfigOption, load_pyproject_table, report, say

__all__ = ["deploy"]


def deploy(
    target: Annotated[str, typer.Argument(help="pm2, compose, systemd, kubernetes or docker")],
    config: ConfigOption = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Where to write (default deploy/).")
    ] = Path("deploy"),
) -> None:
    """Write the deployment files of TARGET (settings: [tool.bullmq-codegen.deploy] in pyproject.toml)."""
    from ..deploy import TARGETS, DeployError, DeploySettings, render_target
    from ..generator import BullMQCodeGen
    from ..generator.output import write_files
    from ..generator.settings import find_pyproject
    from ..loader.importer import parse_target

    if target not in TARGETS:
        report(DeployError(f"unknown target {target!r}: use {', '.join(TARGETS)}"))
        raise typer.Exit(2)
    try:
        generator = BullMQCodeGen.from_project(config=config)
        model = generator.load()
        pyproject = find_pyproject(Path.cwd())
        project_dir = pyproject.parent if pyproject is not None else Path.cwd()
        settings = DeploySettings.load(
            load_pyproject_table("deploy"), load_pyproject_table("workers"), project_dir
        )
        out_dir = out if out.is_absolute() else Path.cwd() / out
        files = render_target(
            target,
            model,
            settings,
            out_dir=out_dir,
            project_dir=project_dir,
            definitions=parse_target(generator.settings.config, generator.settings.base_dir).path,
        )
        # the pattern names a file written now: no other generated file in out_dir is removed
        result = write_files(out_dir, files, pattern=next(iter(files)))
    except BullMQCodegenError as error:
        report(error)
        raise typer.Exit(2) from None
    for name in files:
        written = "wrote" if name in result.written else "up to date:"
        say.print(f"{written} {out_dir / name}", markup=False)
