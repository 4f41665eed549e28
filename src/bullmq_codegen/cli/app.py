"""The ``bullmq-codegen`` command.

Exit codes: 0 done (or ``--check``: current), 1 ``--check`` found stale files,
2 bad input (every problem is printed, one per line, naming file, queue,
worker and line where it can; nothing is written).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from .._version import __version__
from ..errors import BullMQCodegenError
from .catalog import catalog
from .common import ConfigOption, OutOption, exit_if_stale, report, tell_written
from .dashboard import dashboard
from .deploy import deploy
from .diff import diff
from .export import export_app
from .moves import moved
from .status import status
from .workers import workers_app

__all__ = ["app", "main"]

app = typer.Typer(
    name="bullmq-codegen",
    help="Typed BullMQ queues, producers and workers from one Python definitions module.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: [tool.bullmq-codegen] prints as written, no escape codes
)
app.add_typer(workers_app, name="workers")
app.add_typer(
    export_app, name="export", short_help="Export the queues' contract (JSON Schema, TypeScript)."
)
# short help of their own: the command list shows at most ~60 characters of the first line
app.command(short_help="Write the deployment files of TARGET.")(deploy)
app.command(short_help="Count the jobs of moved job names left in their old queue.")(moved)
app.command(short_help="Write a Markdown catalog of every queue and job.")(catalog)
app.command(short_help="Report contract changes that break jobs in flight.")(diff)
app.command(short_help="Serve the web dashboard of the queues and their jobs.")(dashboard)
app.command(short_help="Show every queue's counts, rates and workers alive.")(status)

EXIT_BAD_INPUT = 2

TemplatesOption = Annotated[
    Path | None,
    typer.Option(
        "--templates",
        metavar="DIR",
        help="Directory of templates overriding built-in ones by name.",
    ),
]


def _print_version(wanted: bool) -> None:
    """``--version``: print ``bullmq-codegen <version>`` and exit 0, before any command."""
    if wanted:
        typer.echo(f"bullmq-codegen {__version__}")
        raise typer.Exit()


@app.callback()
def _commands(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            help="Print the version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Typed BullMQ queues, producers and workers from one Python definitions module."""


@app.command()
def generate(
    config: ConfigOption = None,
    out: OutOption = None,
    templates: TemplatesOption = None,
    check: Annotated[
        bool,
        typer.Option("--check", help="Write nothing; print a diff and exit 1 if files are stale."),
    ] = False,
) -> None:
    """Generate the typed package from the definitions.

    Writes queues.py, producers.py, workers.py, __init__.py and __main__.py (so
    that python -m <package> runs the workers) into the output directory.
    """
    from ..generator import BullMQCodeGen

    try:
        generator = BullMQCodeGen.from_project(config=config, out_dir=out, templates_dir=templates)
        if check:
            exit_if_stale(
                generator.check(), "generated code is not current: run bullmq-codegen generate"
            )
            return
        written = generator.generate()
    except BullMQCodegenError as error:
        report(error)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    tell_written(written, "no longer generated")


def main() -> None:
    """Entry point of the ``bullmq-codegen`` script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()
