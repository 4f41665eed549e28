"""What the ``bullmq-codegen`` subcommands share: options, consoles, error reports.

Every message goes through the two consoles here, which never read markup or
emoji codes in what they print (paths, option names and ``[tool.bullmq-codegen]``
print as they are) and colour only a terminal: no escape codes in a pipe, a file
or a CI log, none with ``NO_COLOR`` set or ``TERM=dumb``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from ..errors import BullMQCodegenError, DefinitionError

__all__ = ["ConfigOption", "OutOption", "err", "fail", "load_pyproject_table", "report", "say"]

err = Console(stderr=True, markup=False, emoji=False, highlight=False, soft_wrap=True)
"""Errors and warnings (stderr)."""
say = Console(markup=False, emoji=False, highlight=False, soft_wrap=True)
"""What a command did (stdout)."""

ConfigOption = Annotated[
    str | None,
    typer.Option(
        "--config",
        "-c",
        metavar="PATH_OR_MODULE",
        help="Definitions: path/to/queue_definitions.py or a.dotted.module, optionally :attribute. "
        "Default: config under [tool.bullmq-codegen] in pyproject.toml.",
    ),
]
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        metavar="DIR",
        help="Generated code directory. Default: generated/ beside the definitions.",
    ),
]


def fail(message: str) -> None:
    """Print ``error: message`` to stderr (``error:`` in bold red on a colour terminal)."""
    label = Text("error:", style="" if err.no_color else "bold red")
    err.print(Text.assemble(label, " ", message))


def report(error: BullMQCodegenError) -> None:
    """Print ``error`` to stderr: a heading, then one line per problem."""
    if isinstance(error, DefinitionError):
        fail(f"{error.heading}:")
        for problem in error.problems:
            err.print(f"  {problem}")
    else:
        fail(str(error))


def load_pyproject_table(name: str) -> dict[str, Any]:
    """``[tool.bullmq-codegen.<name>]`` of the nearest configured pyproject.toml."""
    from ..generator.settings import project_table

    return project_table(name, Path.cwd())
