"""Readable types from Pydantic's JSON Schema: ``integer (≥ 1)``, ``list[OrderItem]``, ``"a" | "b"``.

The catalog lays these out; this module only reads schemas. Every keyword it
does not know is shown as written (``not: {...}``), never dropped, so what a
reader sees is all the schema says.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

__all__ = ["FieldRow", "SchemaReader", "code", "ref_name", "value"]

Node = Mapping[str, Any]

_ANNOTATIONS = frozenset(
    {"title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly"}
)
"""Keywords that describe a value without constraining it (``description`` and ``default``
have their own columns)."""
_SHAPE = frozenset(
    {
        "type",
        "$ref",
        "const",
        "enum",
        "anyOf",
        "oneOf",
        "allOf",
        "items",
        "prefixItems",
        "additionalProperties",
        "propertyNames",
        "properties",
        "required",
        "format",
        "discriminator",
        "$defs",
        "$schema",
        "$comment",
    }
)
"""Keywords read into the type itself."""


def ref_name(ref: str) -> str:
    """The definition a local ``$ref`` points at (``#/$defs/Item`` → ``Item``)."""
    return ref.rsplit("/", 1)[-1]


def code(text: str) -> str:
    """``text`` as a Markdown code span, whatever backticks it holds."""
    fence = "`"
    while fence in text:
        fence += "`"
    padded = f" {text} " if text.startswith("`") or text.endswith("`") else text
    return f"{fence}{padded}{fence}"


def value(data: object) -> str:
    """A JSON value as the wire has it (``"post"``, ``[]``, ``null``)."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True, slots=True)
class FieldRow:
    """One property of an object schema, as the catalog's table shows it (Markdown)."""

    name: str
    """The name on the wire (the alias, where the model has one)."""
    type: str
    required: str
    """``yes``; ``no``; or ``no, default ...``."""
    constraints: str
    description: str


class SchemaReader:
    """Reads the types of one JSON Schema document.

    ``names`` maps the document's ``$defs`` names to the names the catalog
    shows (two different models of one name are told apart there).
    """

    def __init__(self, names: Mapping[str, str]) -> None:
        self._names = names

    def type_of(self, node: object) -> str:
        """The whole type of ``node``, constraints included (``list[string (length ≤ 20)]``)."""
        base, qualifiers = self._split(node)
        return f"{base} ({', '.join(qualifiers)})" if qualifiers else base

    def fields(self, schema: Node) -> list[FieldRow]:
        """A row per property of the object ``schema``, in definition order."""
        required = set(cast("list[str]", schema.get("required", [])))
        properties = cast("Mapping[str, Node]", schema.get("properties", {}))
        return [self._row(name, node, name in required) for name, node in properties.items()]

    def extra_fields(self, schema: Node) -> str:
        """What the object ``schema`` says of fields it does not list ("" when it is silent)."""
        extra: object = schema.get("additionalProperties")
        if extra is False:
            return "Other fields are refused."
        if extra is True:
            return "Other fields are kept."
        if isinstance(extra, dict):
            return f"Other fields: {code(self.type_of(cast('Node', extra)))}."
        return ""

    def _row(self, name: str, node: Node, required: bool) -> FieldRow:
        base, fmt, own = self._field_type(node)
        if required:
            needed = "yes"
        elif "default" in node:
            needed = f"no, default {code(value(node['default']))}"
        else:
            needed = "no"
        description = str(node.get("description", "")).strip()
        if node.get("deprecated"):
            description = f"Deprecated. {description}".strip()
        return FieldRow(
            name=code(name),
            type=code(f"{base} ({fmt})" if fmt else base),
            required=needed,
            constraints=", ".join(own),
            description=" ".join(description.split()),
        )

    def _field_type(self, node: Node) -> tuple[str, str, list[str]]:
        """``(type, format, constraints)`` of a property: the constraints of a nullable field's
        one non-null branch are the field's own (``string | null`` + ``length ≤ 5``)."""
        branches = cast("list[object]", node.get("anyOf", []))
        others = [b for b in branches if not _is_null(b)]
        if len(others) == 1 and len(branches) == 2 and set(node) <= _ANNOTATIONS | {"anyOf"}:
            base, fmt, own = self._parts(others[0])
            return f"{base} | null", fmt, own
        return self._parts(node)

    def _split(self, node: object) -> tuple[str, list[str]]:
        base, fmt, own = self._parts(node)
        return base, ([fmt] if fmt else []) + own

    def _parts(self, node: object) -> tuple[str, str, list[str]]:
        """``(type, format, constraints)`` of ``node``."""
        if node is True or node == {}:
            return "any", "", []
        if node is False:
            return "nothing", "", []
        if not isinstance(node, dict):
            return value(node), "", []
        schema = cast("Node", node)
        fmt = str(schema.get("format", ""))
        return self._base(schema), fmt, self._constraints(schema)

    def _base(self, node: Node) -> str:
        if "$ref" in node:
            name = ref_name(str(node["$ref"]))
            return self._names.get(name, name)
        if "const" in node:
            return value(node["const"])
        if "enum" in node:
            return " | ".join(value(item) for item in cast("list[object]", node["enum"]))
        for union in ("anyOf", "oneOf"):
            if union in node:
                return " | ".join(self.type_of(b) for b in cast("list[object]", node[union]))
        if "allOf" in node:
            return " & ".join(self.type_of(b) for b in cast("list[object]", node["allOf"]))
        kind: object = node.get("type")
        if isinstance(kind, list):
            return " | ".join(self._typed(node, str(k)) for k in cast("list[object]", kind))
        if kind is None:
            return "any"
        return self._typed(node, str(kind))

    def _typed(self, node: Node, kind: str) -> str:
        if kind == "array":
            return self._array(node)
        if kind == "object":
            return self._object(node)
        return kind

    def _array(self, node: Node) -> str:
        items: object = node.get("items")
        if "prefixItems" in node:
            parts = [self.type_of(item) for item in cast("list[object]", node["prefixItems"])]
            if items is not None and items is not False:
                parts.append(f"{self.type_of(items)}...")
            return f"tuple[{', '.join(parts)}]"
        element = "any" if items is None else self.type_of(items)
        return f"set[{element}]" if node.get("uniqueItems") else f"list[{element}]"

    def _object(self, node: Node) -> str:
        if "properties" in node:
            required = set(cast("list[str]", node.get("required", [])))
            properties = cast("Mapping[str, object]", node["properties"])
            inner = ", ".join(
                f"{name}{'' if name in required else '?'}: {self.type_of(prop)}"
                for name, prop in properties.items()
            )
            return f"{{{inner}}}"
        extra: object = node.get("additionalProperties")
        if extra is None:
            return "object"
        key = self.type_of(node["propertyNames"]) if "propertyNames" in node else "string"
        return f"dict[{key}, {'any' if extra is True else self.type_of(extra)}]"

    def _constraints(self, node: Node) -> list[str]:
        """The constraints ``node`` puts on its value, readable, in a fixed order."""
        found: list[str] = []
        bounds = (
            ("minimum", "≥ {}"),
            ("exclusiveMinimum", "> {}"),
            ("maximum", "≤ {}"),
            ("exclusiveMaximum", "< {}"),
            ("multipleOf", "multiple of {}"),
            ("minLength", "length ≥ {}"),
            ("maxLength", "length ≤ {}"),
            ("minItems", "items ≥ {}"),
            ("maxItems", "items ≤ {}"),
            ("minProperties", "fields ≥ {}"),
            ("maxProperties", "fields ≤ {}"),
        )
        fixed = _tuple_length(node)
        for key, text in bounds:
            if key in node and not (key in ("minItems", "maxItems") and fixed == node[key]):
                found.append(text.format(value(node[key])))
        if "pattern" in node:
            found.append(f"pattern {code(str(node['pattern']))}")
        discriminator: object = node.get("discriminator")
        if isinstance(discriminator, dict):
            tag = cast("Node", discriminator).get("propertyName")
            found.append(f"tagged by {code(str(tag))}")
        known = _ANNOTATIONS | _SHAPE | {key for key, _ in bounds} | {"pattern", "uniqueItems"}
        found.extend(f"{key}: {code(value(node[key]))}" for key in sorted(node) if key not in known)
        return found


def _is_null(node: object) -> bool:
    return isinstance(node, dict) and dict(cast("Node", node)) == {"type": "null"}


def _tuple_length(node: Node) -> int | None:
    """The fixed length of a tuple schema (its ``minItems``/``maxItems`` say nothing more)."""
    if "prefixItems" in node and node.get("items") in (None, False):
        return len(cast("list[object]", node["prefixItems"]))
    return None
