"""``bullmq-codegen diff --against REF_OR_PATH``: does the contract change break jobs in flight?"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ..errors import BullMQCodegenError
from .common import ConfigOption, report, say

__all__ = ["diff"]

EXIT_BREAKING = 1
EXIT_BAD_INPUT = 2


def diff(
    against: Annotated[
        str,
        typer.Option(
            "--against",
            metavar="GIT_REF_OR_PATH",
            help="The earlier contract: a git ref (HEAD~1, main, a tag) of the definitions, or "
            "a contract.json from export jsonschema (or its directory).",
        ),
    ],
    config: ConfigOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the changes as JSON instead of lines.")
    ] = False,
) -> None:
    """Compare the payload and result contracts with an earlier version.

    Prints each change as BREAKING (jobs already waiting in Redis, producers or
    result readers not yet redeployed would fail) or SAFE, with the job, the field
    and why. Exit 1 if any change is breaking, 0 otherwise, 2 on bad input.
    """
    from ..contract import load_contract
    from ..contract.against import load_against
    from ..contract.diff import diff_contracts
    from ..generator.settings import resolve_settings

    try:
        settings = resolve_settings(
            config=config, out_dir=None, templates_dir=None, cwd=Path.cwd().resolve()
        )
        current = load_contract(settings.config, settings.base_dir)
        earlier = load_against(against, settings.config, settings.base_dir)
    except BullMQCodegenError as error:
        report(error)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    found = diff_contracts(earlier.contract, current)
    if as_json:
        document = {
            "against": earlier.source,
            "breaking": len(found.breaking),
            "changes": [change.to_json() for change in found.changes],
        }
        say.print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        for change in found.changes:
            say.print(change.line())
        say.print(f"{found.summary()} against {earlier.source}")
    if found.breaking:
        raise typer.Exit(EXIT_BREAKING)
