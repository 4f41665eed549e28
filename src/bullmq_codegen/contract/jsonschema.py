"""``export jsonschema``: one JSON Schema document per payload and result, and the contract.

File names are stable (``<queue>.<job>.payload.schema.json``,
``<queue>.<job>.result.schema.json``, ``contract.json``), the bytes deterministic,
and the first line of each carries the generated header (a ``$comment``), so
``--check`` and stale-file removal work as for the generated Python.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .._version import __version__
from ..generator.render import GENERATED_BY
from .model import Contract

__all__ = ["DRAFT", "header", "json_document", "render_jsonschema"]

DRAFT = "https://json-schema.org/draft/2020-12/schema"
"""The JSON Schema dialect Pydantic writes."""


def header(contract: Contract) -> str:
    """The generated header of exported files."""
    return f"{GENERATED_BY} {__version__} from {contract.source}. DO NOT EDIT."


def json_document(comment: str, body: Mapping[str, Any]) -> str:
    """``body`` as JSON with ``$comment`` first, on the first line; sorted keys, a final newline."""
    rest = json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False)
    first = '{"$comment": ' + json.dumps(comment, ensure_ascii=False)
    if rest == "{}":
        return first + "}\n"
    return first + ",\n" + rest[2:] + "\n"


def render_jsonschema(contract: Contract) -> dict[str, str]:
    """File name → text of the export of ``contract``."""
    comment = header(contract)
    files = {"contract.json": json_document(comment, contract.to_json())}
    for job in contract.jobs:
        base = f"{job.queue}.{job.name}"
        if job.payload is not None:
            files[f"{base}.payload.schema.json"] = json_document(
                comment,
                {
                    "$schema": DRAFT,
                    **job.payload,
                    "title": job.payload.get("title", f"{job.name} payload"),
                },
            )
        files[f"{base}.result.schema.json"] = json_document(
            comment, {"$schema": DRAFT, **job.result, "title": f"{job.name} result"}
        )
    return files
