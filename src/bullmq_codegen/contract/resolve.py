"""JSON Schema nodes as ``diff`` compares them: ``$ref`` followed, unions flattened.

A node becomes a list of :class:`Alternative` s, one per JSON type it accepts
(``anyOf``/``oneOf`` members, the types of a ``type`` list), each with its
``$defs`` name when it came through a ``$ref``; ``enum`` and ``const`` become
alternatives listing their values. What this cannot read (a non-local ``$ref``,
``allOf`` of several schemas, ``not``...) becomes an ``unknown`` alternative,
which ``diff`` reports for review rather than guessing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

__all__ = [
    "ANNOTATIONS",
    "KINDS",
    "Alternative",
    "Resolver",
    "accepts",
    "as_schema",
    "kind_of",
    "show",
]

KINDS = ("null", "boolean", "integer", "number", "string", "array", "object")
"""JSON Schema's types, in the order changes are reported."""

ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "examples",
        "$comment",
        "deprecated",
        "readOnly",
        "writeOnly",
        "default",
        "discriminator",
        "$schema",
        "$id",
        "$defs",
        "definitions",
    }
)
"""Keywords that describe values without accepting or rejecting any (``default`` and
``discriminator`` are read where they matter: a property, a union)."""


@dataclass(frozen=True, slots=True)
class Alternative:
    """One way a value may match a node: a JSON type with its keywords, an enum, any, unknown."""

    kind: str
    """One of :data:`KINDS`, ``any`` (``{}``) or ``unknown``."""
    schema: Mapping[str, Any]
    """The resolved schema (``$ref`` replaced by its target, merged with its siblings)."""
    values: tuple[Any, ...] | None = None
    """The values of an ``enum``/``const`` alternative (all of ``kind``), else ``None``."""
    ref: str | None = None
    """The ``$defs`` name it came through, if any (names models and enums in messages)."""

    @property
    def name(self) -> str:
        """How messages name it: the model or enum name, else the values, else the type."""
        if self.ref is not None:
            return self.ref
        if self.values is not None:
            return "enum " + show(self.values)
        title = self.schema.get("title")
        return title if self.kind == "object" and isinstance(title, str) else self.kind


def as_schema(node: object) -> Mapping[str, Any] | None:
    """``node`` if it is a schema object (not ``true``/``false`` or absent)."""
    return cast("Mapping[str, Any]", node) if isinstance(node, Mapping) else None


def show(values: Iterable[Any]) -> str:
    """``[...]`` of JSON ``values``, as messages print them."""
    return "[" + ", ".join(json.dumps(value, sort_keys=True) for value in values) + "]"


def kind_of(value: object) -> str:
    """The JSON type of a JSON value (``integer`` for whole numbers written as ints)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


class Resolver:
    """Resolves the nodes of one JSON Schema document (local ``$ref`` s into its ``$defs``)."""

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root

    def resolve(self, node: object) -> tuple[Mapping[str, Any] | None, str | None]:
        """``node`` with its ``$ref`` chain followed (siblings merged over the target) and the
        last ``$defs`` name on the way; ``(None, ref)`` for a reference this cannot follow."""
        if isinstance(node, bool):
            return ({} if node else {"not": {}}), None
        if not isinstance(node, Mapping):
            return None, None
        current = cast("Mapping[str, Any]", node)
        name: str | None = None
        seen: set[str] = set()
        while "$ref" in current:
            ref = current["$ref"]
            if not isinstance(ref, str) or ref in seen:
                return None, name
            seen.add(ref)
            target = self._pointer(ref)
            if target is None:
                return None, ref
            name = ref.rsplit("/", 1)[-1]
            siblings = {key: value for key, value in current.items() if key != "$ref"}
            current = {**target, **siblings}
        if "allOf" in current:
            members = current["allOf"]
            if not isinstance(members, list) or len(cast("list[object]", members)) != 1:
                return current, name
            inner, inner_name = self.resolve(cast("list[object]", members)[0])
            if inner is None:
                return None, inner_name or name
            rest = {key: value for key, value in current.items() if key != "allOf"}
            return {**inner, **rest}, inner_name or name
        return current, name

    def alternatives(self, node: object) -> list[Alternative]:
        """The alternatives of ``node`` (see the module docstring)."""
        return self._alternatives(node, frozenset())

    def _alternatives(self, node: object, expanding: frozenset[str]) -> list[Alternative]:
        schema, ref = self.resolve(node)
        if schema is None:
            return [Alternative("unknown", {"$ref": ref} if ref else {}, ref=ref)]
        for key in ("anyOf", "oneOf"):
            if key in schema:
                members = schema[key]
                rest = set(schema) - ANNOTATIONS - {key}
                if not isinstance(members, list) or rest or (ref is not None and ref in expanding):
                    return [Alternative("unknown", schema, ref=ref)]
                inner = expanding if ref is None else expanding | {ref}
                return [
                    alternative
                    for member in cast("list[object]", members)
                    for alternative in self._alternatives(member, inner)
                ]
        if "enum" in schema or "const" in schema:
            values: Sequence[Any] = (
                cast("list[Any]", schema["enum"]) if "enum" in schema else [schema["const"]]
            )
            kinds = list(dict.fromkeys(kind_of(value) for value in values))
            return [
                Alternative(
                    kind,
                    schema,
                    tuple(value for value in values if kind_of(value) == kind),
                    ref,
                )
                for kind in kinds
            ]
        declared = schema.get("type")
        if isinstance(declared, str) and declared in KINDS:
            return [Alternative(declared, schema, ref=ref)]
        if isinstance(declared, list) and all(
            kind in KINDS for kind in cast("list[object]", declared)
        ):
            return [
                Alternative(kind, {**schema, "type": kind}, ref=ref)
                for kind in cast("list[str]", declared)
            ]
        if declared is not None:
            return [Alternative("unknown", schema, ref=ref)]
        keywords = set(schema) - ANNOTATIONS
        if not keywords:
            return [Alternative("any", schema, ref=ref)]
        if keywords <= {"properties", "required", "additionalProperties"}:
            return [Alternative("object", schema, ref=ref)]
        if keywords <= {"items", "prefixItems", "minItems", "maxItems", "uniqueItems"}:
            return [Alternative("array", schema, ref=ref)]
        return [Alternative("unknown", schema, ref=ref)]

    def _pointer(self, ref: str) -> Mapping[str, Any] | None:
        if not ref.startswith("#"):
            return None
        node: object = self.root
        for part in ref[1:].split("/")[1:] if ref != "#" else []:
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = cast("Mapping[str, object]", node)[part]
        return cast("Mapping[str, Any]", node) if isinstance(node, Mapping) else None


def accepts(alternatives: Sequence[Alternative], value: object) -> bool:
    """Whether ``value`` surely matches one of ``alternatives`` (``False`` when unsure)."""
    return any(_accepts(alternative, value) for alternative in alternatives)


def _accepts(alternative: Alternative, value: object) -> bool:
    kind = kind_of(value)
    if alternative.kind == "any":
        return True
    if alternative.values is not None:
        return any(kind_of(v) == kind and v == value for v in alternative.values)
    if alternative.kind != kind and not (alternative.kind == "number" and kind == "integer"):
        return False
    schema = alternative.schema
    if kind in ("null", "boolean"):
        return True
    if kind == "string":
        text = cast("str", value)
        if "format" in schema or len(text) < schema.get("minLength", 0):
            return False
        if "maxLength" in schema and len(text) > schema["maxLength"]:
            return False
        pattern = schema.get("pattern")
        return pattern is None or re.search(pattern, text) is not None
    if kind in ("integer", "number"):
        number = cast("float", value)
        return (
            number >= schema.get("minimum", number)
            and number <= schema.get("maximum", number)
            and number > schema.get("exclusiveMinimum", number - 1)
            and number < schema.get("exclusiveMaximum", number + 1)
            and ("multipleOf" not in schema or (number / schema["multipleOf"]).is_integer())
        )
    return False  # arrays and objects as enum values against typed schemas: unsure
