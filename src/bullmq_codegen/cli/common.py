"""What the ``bullmq-codegen`` subcommands share: options, consoles, error reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from ..errors import BullMQCodegenError, DefinitionError

__all__ = ["ConfigOption", "OutOption", "err", "load_pyproject_table", "report", "say"]

err = Console(stderr=True, highlight=False, soft_wrap=True)
say = Console(highlight=False, soft_wrap=True)

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
        "--out", "-o", help="Generated code directory. Default: generated/ beside the definitions."
    ),
]


def report(error: BullMQCodegenError) -> None:
    """Print ``error`` to stderr: one line per problem."""
    if isinstance(error, DefinitionError):
        err.print(f"[bold red]error:[/] {len(error.problems)} problem(s) in the queue definitions")
        for problem in error.problems:
            err.print(f"  {problem}", markup=False)
    else:
        err.print(f"[bold red]error:[/] {error}", markup=False)


def load_pyproject_table(name: str) -> dict[str, Any]:
    """``[tool.bullmq-codegen.<name>]`` of the nearest configured pyproject.toml."""
    from ..generator.settings import project_table

    return project_table(name, Path.cwd())
