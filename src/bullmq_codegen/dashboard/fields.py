"""A job's payload and result shown field by field, with the types and descriptions of the schema.

The types are the catalog's (read from the model's JSON Schema by
:class:`~bullmq_codegen.contract.describe.SchemaReader`), so the dashboard and
``CATALOG.md`` name them alike. Values are shown as stored (JSON, by alias).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from pydantic import BaseModel, ValidationError

from ..contract.describe import SchemaReader
from ..contract.loading import payload_json_schema, result_json_schema
from ..payloads import decode_json
from ..runtime.results import ResultType

__all__ = ["Field", "TypedValue", "pretty_json", "read_payload", "read_result", "summary"]

_SUMMARY_LENGTH = 120


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a stored value."""

    name: str
    """The name as stored (the alias, where the model has one)."""
    type: str
    """Its type in the schema (``""`` for a field the schema does not have)."""
    description: str
    value: str
    """The stored value as JSON text (``—`` when the field is absent)."""
    present: bool


@dataclass(frozen=True, slots=True)
class TypedValue:
    """A stored payload or result read with today's types."""

    type_name: str
    """The model or type it is read as (``""``: untyped)."""
    fields: list[Field]
    """Field by field for an object; empty otherwise (see :attr:`raw`)."""
    raw: str
    """The whole value as indented JSON."""
    error: str | None
    """Pydantic's error when the stored value no longer validates against today's type."""


def pretty_json(value: object) -> str:
    """``value`` as indented JSON, its text as written (no ``\\u`` escapes; the page escapes
    HTML)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


def _rows(schema: Mapping[str, Any], stored: object) -> list[Field]:
    """Field by field; none for a value that is not an object (shown whole instead)."""
    if not isinstance(stored, dict):
        return []
    defs = cast("Mapping[str, Any]", schema.get("$defs", {}))
    reader = SchemaReader({name: name for name in defs})
    properties = cast("Mapping[str, Mapping[str, Any]]", schema.get("properties", {}))
    values = cast("dict[str, object]", stored)
    rows = [
        Field(
            name=name,
            type=reader.type_of(node),
            description=" ".join(str(node.get("description", "")).split()),
            value=json.dumps(values[name], ensure_ascii=False) if name in values else "—",
            present=name in values,
        )
        for name, node in properties.items()
    ]
    rows.extend(
        Field(
            name=name, type="", description="not in the schema", value=pretty_json(v), present=True
        )
        for name, v in values.items()
        if name not in properties
    )
    return rows


def read_payload(schema: type[BaseModel] | None, data_json: str) -> TypedValue:
    """The stored data of a job, field by field, checked against ``schema``."""
    stored = decode_json(data_json)
    if schema is None:
        return TypedValue("", [], pretty_json(stored), None)
    error: str | None = None
    try:
        schema.model_validate_json(data_json)
    except ValidationError as invalid:
        error = str(invalid)
    return TypedValue(
        schema.__name__, _rows(payload_json_schema(schema), stored), pretty_json(stored), error
    )


def read_result(result: ResultType[Any], return_json: str) -> TypedValue:
    """The stored return value of a completed job, checked against its result type."""
    stored = decode_json(return_json)
    hint = result.hint
    name = getattr(hint, "__name__", None) or str(hint)
    error: str | None = None
    try:
        result.validate_json(return_json)
    except ValidationError as invalid:
        error = str(invalid)
    fields: list[Field] = []
    if isinstance(hint, type) and issubclass(hint, BaseModel):
        fields = _rows(result_json_schema(hint), stored)
    return TypedValue(name, fields, pretty_json(stored), error)


def summary(data_json: str) -> str:
    """A one-line summary of stored data: ``to="a@b.c", template="welcome"``, cut at 120
    characters."""
    stored = decode_json(data_json)
    if isinstance(stored, dict):
        text = ", ".join(f"{key}={_start(value)}" for key, value in stored.items())
    else:
        text = _start(stored)
    return text if len(text) <= _SUMMARY_LENGTH else text[: _SUMMARY_LENGTH - 1] + "…"


def _start(value: object) -> str:
    """The start of ``value`` as JSON (a long string is not written out whole to be cut)."""
    if isinstance(value, str) and len(value) > _SUMMARY_LENGTH:
        value = value[:_SUMMARY_LENGTH]
    return json.dumps(value, ensure_ascii=False)
