"""``bullmq-codegen catalog [--config] [--out FILE] [--check]``: the queues as Markdown."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ..errors import BullMQCodegenError
from .common import ConfigOption, exit_if_stale, fail, load_pyproject_table, report, say

__all__ = ["catalog"]

EXIT_BAD_INPUT = 2


def catalog(
    config: ConfigOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", metavar="FILE", help="Write the catalog here (default: print it)."
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Write nothing; print a diff and exit 1 if FILE is not current."
        ),
    ] = False,
) -> None:
    """Write a Markdown catalog of every queue: job names, payload and result fields, options,
    schedules, the processor that serves each job and the deployment that runs it.

    Commit it and run --check in CI: a change to the definitions is then a readable diff.
    """
    from ..contract import load_contract
    from ..contract.catalog import render_catalog
    from ..deploy.settings import DeploySettings
    from ..generator.output import check_files, write_files
    from ..generator.settings import find_pyproject, resolve_settings

    if check and out is None:
        fail("--check needs --out FILE: the committed catalog to compare")
        raise typer.Exit(EXIT_BAD_INPUT)
    try:
        settings = resolve_settings(
            config=config, out_dir=None, templates_dir=None, cwd=Path.cwd().resolve()
        )
        pyproject = find_pyproject(Path.cwd())
        deploy = DeploySettings.load(
            load_pyproject_table("deploy"),
            load_pyproject_table("workers"),
            pyproject.parent if pyproject is not None else Path.cwd(),
        )
        text = render_catalog(load_contract(settings.config, settings.base_dir), deploy)
        if out is None:
            sys.stdout.write(text)
            return
        path = out if out.is_absolute() else Path.cwd() / out
        files = {path.name: text}
        if check:
            exit_if_stale(
                check_files(path.parent, files, path.name),
                f"the catalog is not current: run bullmq-codegen catalog --out {out}",
                shown=path,
            )
            return
        written = write_files(path.parent, files, path.name)
    except BullMQCodegenError as error:
        report(error)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    say.print(f"wrote {path}" if written.written else f"{path} is up to date")
