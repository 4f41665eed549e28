"""``bullmq-codegen export jsonschema|...``: the queues' contract for other languages and tools."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import BullMQCodegenError
from .common import ConfigOption, exit_if_stale, report, tell_written

if TYPE_CHECKING:
    from ..contract import Contract

__all__ = ["export_app"]

export_app = typer.Typer(
    help="Export the queues' contract (payload and result schemas) for other languages.",
    no_args_is_help=True,
)

ExportOutOption = Annotated[
    Path, typer.Option("--out", "-o", metavar="DIR", help="Where to write.")
]
CheckOption = Annotated[
    bool,
    typer.Option("--check", help="Write nothing; print a diff and exit 1 if files are stale."),
]

EXIT_BAD_INPUT = 2


@export_app.command()
def jsonschema(
    config: ConfigOption = None, out: ExportOutOption = Path("schemas"), check: CheckOption = False
) -> None:
    """One JSON Schema per payload and result (<queue>.<job>.payload.schema.json,
    <queue>.<job>.result.schema.json) and contract.json, which diff --against reads."""
    from ..contract.jsonschema import render_jsonschema

    export(config, out, check, render_jsonschema, "*.json")


@export_app.command(short_help="TypeScript producers for Node services (Zod 4, BullMQ).")
def ts(
    out: Annotated[Path, typer.Option("--out", "-o", metavar="DIR", help="Where to write.")],
    config: ConfigOption = None,
    check: CheckOption = False,
) -> None:
    """TypeScript producers for Node services: Zod schemas and types of every payload and
    result, typed BullMQ queues, enqueue functions validating before Redis (Zod 4, BullMQ 6)."""
    from ..contract.typescript import render_typescript

    export(config, out, check, render_typescript, "*.ts")


def export(
    config: str | None,
    out: Path,
    check: bool,
    render: Callable[[Contract], Mapping[str, str]],
    pattern: str,
) -> None:
    """Render the contract of the project's definitions with ``render`` into ``out``, or
    compare (``check``); exit as ``generate`` does (1 stale, 2 bad input)."""
    from ..contract import load_contract
    from ..generator.output import check_files, write_files
    from ..generator.settings import resolve_settings

    out_dir = out if out.is_absolute() else Path.cwd() / out
    try:
        settings = resolve_settings(
            config=config, out_dir=None, templates_dir=None, cwd=Path.cwd().resolve()
        )
        files = render(load_contract(settings.config, settings.base_dir))
        if check:
            exit_if_stale(
                check_files(out_dir, files, pattern),
                "the export is not current: run it again without --check",
            )
            return
        written = write_files(out_dir, files, pattern)
    except BullMQCodegenError as error:
        report(error)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    tell_written(written, "no longer exported")
