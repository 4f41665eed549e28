"""What the ``bullmq-codegen`` subcommands share: options, consoles, error reports.

Every message goes through the two consoles here, which never read markup or
emoji codes in what they print (paths, option names and ``[tool.bullmq-codegen]``
print as they are) and colour only a terminal: no escape codes in a pipe, a file
or a CI log, none with ``NO_COLOR`` set or ``TERM=dumb``. Each is made, and rich
imported, when first printed to: ``workers start`` prints nothing while it runs,
and its process does not hold rich (~2 MiB).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import BullMQCodegenError, DefinitionError

if TYPE_CHECKING:
    from rich.console import Console

    from ..generator.output import CheckResult, WriteResult

__all__ = [
    "EXIT_STALE",
    "ConfigOption",
    "LazyConsole",
    "OutOption",
    "err",
    "exit_if_stale",
    "fail",
    "load_pyproject_table",
    "report",
    "say",
    "tell_written",
]

EXIT_STALE = 1
"""``--check`` found files that are not current."""


class LazyConsole:
    """A rich console that never reads markup or emoji codes, made when first used."""

    __slots__ = ("_console", "_stderr")

    def __init__(self, *, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    @property
    def rich(self) -> Console:
        """The console itself (made now if it was not yet)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(
                stderr=self._stderr, markup=False, emoji=False, highlight=False, soft_wrap=True
            )
        return self._console

    @property
    def no_color(self) -> bool:
        """Whether it prints without colour (not a terminal, ``NO_COLOR``, ``TERM=dumb``)."""
        return self.rich.no_color

    def print(self, *objects: Any, **options: Any) -> None:
        """rich's ``Console.print``."""
        self.rich.print(*objects, **options)

    def out(self, *objects: Any, **options: Any) -> None:
        """rich's ``Console.out``: plain text, no wrapping."""
        self.rich.out(*objects, **options)


err = LazyConsole(stderr=True)
"""Errors and warnings (stderr)."""
say = LazyConsole()
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
    from rich.text import Text

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


def exit_if_stale(result: CheckResult, advice: str, *, shown: Path | None = None) -> None:
    """For ``--check``: say ``shown`` (default: the folder) is up to date; otherwise print the
    diff, each stale, missing or extra file and ``advice``, and exit 1."""
    if result.current:
        say.print(f"{shown or result.out_dir} is up to date")
        return
    sys.stdout.write(result.diff)
    for kind, names in (
        ("stale", result.stale),
        ("missing", result.missing),
        ("extra", result.extra),
    ):
        for name in names:
            err.print(f"{kind}: {result.out_dir / name}")
    fail(advice)
    raise typer.Exit(EXIT_STALE)


def tell_written(result: WriteResult, removed: str) -> None:
    """Say what writing did: each file written, each removed (``removed`` says why), or that
    the folder was up to date."""
    for name in result.written:
        say.print(f"wrote {result.out_dir / name}")
    for name in result.removed:
        say.print(f"removed {result.out_dir / name} ({removed})")
    if not result.written and not result.removed:
        say.print(f"{result.out_dir} is up to date")
