"""The ``bullmq-codegen`` command.

Exit codes: 0 done (or ``--check``: current), 1 ``--check`` found stale files,
2 bad input (every problem is printed, one per line, naming file, queue,
worker and line where it can; nothing is written).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..errors import BullMQCodegenError, DefinitionError

__all__ = ["app", "main"]

app = typer.Typer(
    name="bullmq-codegen",
    help="Typed BullMQ queues, producers and workers from one Python definitions module.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_err = Console(stderr=True, highlight=False, soft_wrap=True)
_out = Console(highlight=False, soft_wrap=True)

EXIT_STALE = 1
EXIT_BAD_INPUT = 2

ConfigOption = Annotated[
    str | None,
    typer.Option(
        "--config",
        "-c",
        help="Definitions: path/to/queue_definitions.py or a.dotted.module, optionally :attribute. "
        "Default: [tool.bullmq-codegen] config in pyproject.toml.",
    ),
]
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out", "-o", help="Output directory. Default: generated/ beside the definitions."
    ),
]
TemplatesOption = Annotated[
    Path | None,
    typer.Option("--templates", help="Directory of templates overriding built-in ones by name."),
]


@app.callback()
def _commands() -> None:
    """Typed BullMQ queues, producers and workers from one Python definitions module."""


def report(error: BullMQCodegenError) -> None:
    """Print ``error`` to stderr: one line per problem."""
    if isinstance(error, DefinitionError):
        _err.print(f"[bold red]error:[/] {len(error.problems)} problem(s) in the queue definitions")
        for problem in error.problems:
            _err.print(f"  {problem}", markup=False)
    else:
        _err.print(f"[bold red]error:[/] {error}")


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
    """Generate queues.py, producers.py, workers.py and __init__.py from the definitions."""
    from ..generator import BullMQCodeGen

    try:
        generator = BullMQCodeGen.from_project(config=config, out_dir=out, templates_dir=templates)
        if check:
            result = generator.check()
            if result.current:
                _out.print(f"{result.out_dir} is up to date")
                return
            sys.stdout.write(result.diff)
            for kind, names in (
                ("stale", result.stale),
                ("missing", result.missing),
                ("extra", result.extra),
            ):
                for name in names:
                    _err.print(f"{kind}: {result.out_dir / name}", markup=False)
            _err.print("generated code is not current: run bullmq-codegen generate")
            raise typer.Exit(EXIT_STALE)
        written = generator.generate()
    except BullMQCodegenError as error:
        report(error)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    for name in written.written:
        _out.print(f"wrote {written.out_dir / name}", markup=False)
    for name in written.removed:
        _out.print(f"removed {written.out_dir / name} (no longer generated)", markup=False)
    if not written.written and not written.removed:
        _out.print(f"{written.out_dir} is up to date", markup=False)


def main() -> None:
    """Entry point of the ``bullmq-codegen`` script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()
