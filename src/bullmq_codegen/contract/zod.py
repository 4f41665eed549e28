"""Zod 4 schemas from Pydantic's JSON Schema: what a Node producer may send, checked in Node.

Each JSON Schema construct Pydantic writes maps to the Zod 4 schema that accepts
the same JSON values (the JSON Schema is the contract; the worker's Pydantic
stays the authority). A construct Zod cannot express raises :class:`ExportError`
naming the model and the field; nothing is loosened silently. Deliberate
choices, each because Pydantic accepts the same:

- a field that is not required and has a ``default`` gets ``.default(value)`` (what
  the Python producers send too), one without ``.optional()``; ``null`` in a union
  gives ``.nullable()``;
- ``uniqueItems`` (sets) is not checked: Pydantic accepts duplicates and drops them;
- string lengths count code points as Python does, not UTF-16 units as ``.min()``
  would; patterns keep the Rust ``regex`` semantics (see :mod:`.patterns`);
- integers are ``z.int()``: JavaScript's safe integers (±2⁵³), which Node can send;
- keys Pydantic ignores (no ``additionalProperties``) are stripped, ``false`` gives a
  strict object, ``true`` a loose one; any JSON (``{}``) is ``z.json()``.

Recursive models become objects with getters (Zod 4's recursion), so their types
are inferred without annotations.

Use from a test (Node with ``zod`` resolvable)::

    from bullmq_codegen.contract.zod import zod_schema
    source = zod_schema(Model.model_json_schema(by_alias=True), "Model")
    script = f'const {{ z }} = require("zod"); const schema = {source}; ...'

:class:`ZodNamespace` is what ``export ts`` uses: many schemas sharing named models.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

from ..errors import BullMQCodegenError
from .patterns import PatternError, js_regex

__all__ = ["Declaration", "ExportError", "ZodNamespace", "identifier", "zod_schema"]

JsonSchema = Mapping[str, Any]

_ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "examples",
        "default",
        "readOnly",
        "writeOnly",
        "deprecated",
        "$comment",
        "$schema",
        "uniqueItems",  # see the module's docstring
    }
)
_RESERVED = frozenset(
    """
    break case catch class const continue debugger default delete do else enum export extends
    false finally for function if import in instanceof new null return super switch this throw
    true try typeof var void while with implements interface let package private protected public
    static yield await arguments eval undefined NaN Infinity any unknown never string number
    boolean symbol object bigint type as from of async get set declare namespace module z
    Array Object Partial Record
    """.split()  # noqa: SIM905 (a list of words)
)
"""Names a model may not take: JavaScript's reserved words, TypeScript's type names, and
the globals and imports the generated schemas use."""
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_NO_YEAR_ZERO = '.refine((s) => !s.startsWith("0000"), "Year 0 is not a date")'
"""Python's dates start at year 1; Zod's ISO checks accept year 0."""
_DATETIME = "z.iso.datetime({ offset: true, local: true })" + _NO_YEAR_ZERO
_TIME = (  # hours, minutes and seconds in range, as Python's time reads them
    r"z.string().regex(/^(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?"
    r"(?:Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?$/)"
)
_DURATION = (
    r"z.string().regex(/^[-+]?P(?!$)(?:\d+(?:\.\d+)?Y)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?W)?"
    r"(?:\d+(?:\.\d+)?D)?(?:T(?=\d)(?:\d+(?:\.\d+)?H)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?S)?)?$/)"
)
_FORMATS = {
    "date-time": _DATETIME,
    "date": "z.iso.date()" + _NO_YEAR_ZERO,
    "time": _TIME,
    "duration": _DURATION,
    "uuid": "z.guid()",
    **{f"uuid{n}": f'z.uuid({{ version: "v{n}" }})' for n in range(1, 9)},
    "email": "z.email({ pattern: z.regexes.unicodeEmail })",
    "uri": "z.url()",
    "ipv4": "z.ipv4()",
    "ipv6": "z.ipv6()",
    "ipvanyaddress": "z.union([z.ipv4(), z.ipv6()])",
    # strings without more to check (bytes as text, secrets, paths)
    "binary": "z.string()",
    "password": "z.string()",
    "path": "z.string()",
}


class ExportError(BullMQCodegenError):
    """A schema cannot be exported: the message names the model, the field and why."""


@dataclass(frozen=True, slots=True)
class Declaration:
    """A named Zod schema: ``export const <name> = <expression>;`` and its inferred type."""

    name: str
    expression: str
    description: str | None = None
    annotation: str | None = None
    """The const's type (``z.ZodType<TreeOutput, TreeInput>``) when it is recursive: TypeScript
    cannot infer it, so :attr:`types` spell its output and input types."""
    types: tuple[str, ...] = ()
    """Type aliases the annotation names: ``TreeOutput = { value: number; ... }``."""


def identifier(text: str) -> str:
    """``text`` as a TypeScript identifier that is not a reserved word."""
    name = re.sub(r"[^A-Za-z0-9_$]", "_", text) or "_"
    if name[0].isdigit():
        name = "_" + name
    return name + "_" if name in _RESERVED else name


def zod_schema(schema: JsonSchema, where: str, *, typescript: bool = False) -> str:
    """One Zod 4 expression (``z`` in scope) accepting what ``schema`` accepts.

    Named models of ``schema`` (its ``$defs``) are declared inside an arrow function
    called at once. JavaScript by default; ``typescript`` adds the types recursive
    models need. ``where`` names the schema in errors (:class:`ExportError`).
    """
    namespace = ZodNamespace()
    expression = namespace.add(schema, where)
    if not namespace.declarations:
        return expression
    lines: list[str] = []
    for declaration in namespace.declarations:
        if typescript:
            lines.extend(f"  type {alias};" for alias in declaration.types)
        annotation = f": {declaration.annotation}" if typescript and declaration.annotation else ""
        lines.append(f"  const {declaration.name}{annotation} = {_indent(declaration.expression)};")
    body = "\n".join(lines)
    return f"(() => {{\n{body}\n  return {expression};\n}})()"


class ZodNamespace:
    """Named Zod schemas shared by many JSON Schema documents, in dependency order.

    A model met again (the same name and the same schema, with what it refers to)
    is declared once; another model of a taken name gets ``variant`` appended, then
    a number.
    """

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self._declarations: list[Declaration] = []
        self._declared: set[str] = set()
        self._taken: set[str] = set(reserved)
        self._known: dict[str, str] = {}
        """Identity of a model (name and closure) → its declared name."""
        self.annotated: set[str] = set()
        """The recursive models, whose declarations carry their type."""

    @property
    def declarations(self) -> Sequence[Declaration]:
        """Every named schema, each after those it refers to (except through getters)."""
        return tuple(self._declarations)

    def reserve(self, name: str) -> None:
        """Keep ``name`` for the caller (models will not take it)."""
        self._taken.add(name)

    def add(self, schema: JsonSchema, where: str, variant: str = "") -> str:
        """The Zod expression of ``schema``: the name of its declaration when it is a model
        (it has a ``title`` and ``properties``), else an expression using declared names."""
        return _Document(self, schema, where, variant).expression()

    # used by _Document
    def known(self, identity: str) -> str | None:
        return self._known.get(identity)

    def allocate(self, base: str, variant: str, identity: str) -> str:
        name = self.take(base, variant)
        self._known[identity] = name
        return name

    def take(self, base: str, variant: str = "") -> str:
        """A free name from ``base`` (``variant`` appended, then a number, when taken)."""
        stem = identifier(base)
        candidates = [stem, stem + variant] if variant else [stem]
        name = next((c for c in candidates if c not in self._taken), None)
        number = 2
        while name is None:
            candidate = f"{candidates[-1]}{number}"
            name = candidate if candidate not in self._taken else None
            number += 1
        self._taken.add(name)
        return name

    def is_declared(self, name: str) -> bool:
        return name in self._declared

    def declare(self, declaration: Declaration) -> None:
        self._declarations.append(declaration)
        self._declared.add(declaration.name)


_ROOT = "#"
"""The key of a document's root model among its definitions."""
_MODES = ("output", "input")
"""What a parsed value is, what a caller may pass (``.default()`` fields optional)."""


@dataclass(frozen=True, slots=True)
class _Expr:
    code: str
    lazy: bool = False
    """It names a model not declared yet (a recursion): only a getter may hold it."""
    object_ref: bool = False
    """It is the name of an object model (a discriminated union's option)."""


class _Document:
    """One JSON Schema document being converted within a namespace."""

    def __init__(self, namespace: ZodNamespace, schema: JsonSchema, where: str, variant: str):
        self.namespace = namespace
        self.where = where
        self.variant = variant
        defs = schema.get("$defs", {})
        if not isinstance(defs, Mapping):
            raise self.error([], "'$defs' is not an object")
        self.defs: dict[str, JsonSchema] = dict(cast("Mapping[str, JsonSchema]", defs))
        self.root: JsonSchema = {k: v for k, v in schema.items() if k != "$defs"}
        if _is_model(self.root):
            self.defs[_ROOT] = self.root
        self.names: dict[str, str] = {}
        self.visiting: set[str] = set()
        self.aliases: dict[str, dict[str, str]] = {}
        """A recursive model's key → its type aliases by mode (``output``, ``input``)."""

    def error(self, path: Sequence[str], message: str) -> ExportError:
        place = ".".join(path)
        return ExportError(
            f"cannot export {self.where} to Zod: {place + ': ' if place else ''}{message}"
        )

    def expression(self) -> str:
        if _ROOT in self.defs:
            return self.model(_ROOT, [])
        return self.convert(self.root, [self.title(self.root)]).code

    @staticmethod
    def title(node: JsonSchema) -> str:
        title = node.get("title")
        return str(title) if isinstance(title, str) else "(root)"

    # -- models ----------------------------------------------------------------------------------

    def def_name(self, key: str) -> str:
        return str(self.defs[key].get("title", key)) if key == _ROOT else key

    def model(self, key: str, path: Sequence[str]) -> str:
        """The declared name of the model ``key``, declaring it (and what it uses) if new."""
        if key in self.names:
            return self.names[key]
        if key not in self.defs:
            raise self.error(path, f"'$ref' to {key!r}, which '$defs' does not define")
        identity = self._identity(key)
        known = self.namespace.known(identity)
        if known is not None:
            self.names[key] = known
            return known
        name = self.namespace.allocate(self.def_name(key), self.variant, identity)
        self.names[key] = name
        if self._recursive(key):
            self.aliases[key] = {m: self.namespace.take(f"{name}{m.title()}") for m in _MODES}
            self.namespace.annotated.add(name)
        self.visiting.add(key)
        for ref in _refs(self.defs[key]):  # declare what it uses first
            if ref in self.defs and ref not in self.visiting:
                self.model(ref, [self.def_name(ref)])
        body = self.defs[key]
        converted = self.convert(body, [self.def_name(key)])
        if converted.lazy:
            raise self.error(
                [self.def_name(key)],
                "a recursive type that does not recurse through a model's field "
                "(Zod infers recursion only through object properties)",
            )
        description = body.get("description")
        declaration = Declaration(
            name, converted.code, description if isinstance(description, str) else None
        )
        if key in self.aliases:
            aliases = self.aliases[key]
            declaration = replace(
                declaration,
                annotation=f"z.ZodType<{aliases['output']}, {aliases['input']}>",
                types=tuple(f"{aliases[m]} = {self.ts_type(body, m)}" for m in _MODES),
            )
        self.namespace.declare(declaration)
        self.visiting.discard(key)
        return name

    def _recursive(self, key: str) -> bool:
        """Whether the model ``key`` refers to itself, directly or through other models."""
        seen: set[str] = set()
        pending = _refs(self.defs[key])
        while pending:
            current = pending.pop()
            if current == key:
                return True
            if current in seen or current not in self.defs:
                continue
            seen.add(current)
            pending.extend(_refs(self.defs[current]))
        return False

    def _identity(self, key: str) -> str:
        """The model's name and everything it refers to: equal identities are one model."""
        closure: dict[str, JsonSchema] = {}
        pending = [key]
        while pending:
            current = pending.pop()
            if self.def_name(current) in closure or current not in self.defs:
                continue
            closure[self.def_name(current)] = self.defs[current]
            pending.extend(_refs(self.defs[current]))
        return json.dumps([self.def_name(key), closure], sort_keys=True)

    def reference(self, ref: object, path: Sequence[str]) -> _Expr:
        if ref == "#" and _ROOT in self.defs:
            key = _ROOT
        elif isinstance(ref, str) and ref.startswith("#/$defs/"):
            key = ref.removeprefix("#/$defs/").replace("~1", "/").replace("~0", "~")
        else:
            raise self.error(path, f"'$ref' {ref!r} is not a reference into '$defs'")
        name = self.model(key, path)
        return _Expr(
            name,
            lazy=not self.namespace.is_declared(name),
            # an annotated model is a ZodType to TypeScript, which discriminated unions refuse
            object_ref=_is_object(self.defs[key]) and name not in self.namespace.annotated,
        )

    # -- TypeScript types of recursive models ------------------------------------------------------

    def ts_type(self, node: object, mode: str) -> str:
        """The TypeScript type of what ``node`` (converted already) gives (``mode`` output) or
        takes (input)."""
        if not isinstance(node, Mapping):
            return _JSON_TYPE if node is True else "never"
        schema = cast("JsonSchema", node)
        if "$ref" in schema:
            key = str(schema["$ref"]).removeprefix("#/$defs/")
            if key in self.aliases:
                return self.aliases[key][mode]
            return f"z.{mode}<typeof {self.names[key]}>"
        if "const" in schema:
            return _js(schema["const"])
        if "enum" in schema:
            return " | ".join(_js(v) for v in cast("list[object]", schema["enum"]))
        members = schema.get("anyOf", schema.get("oneOf", schema.get("allOf")))
        if members is not None:
            return _union(self.ts_type(m, mode) for m in cast("list[object]", members))
        kind = schema.get("type")
        if isinstance(kind, list):
            return _union(
                self.ts_type({**schema, "type": k}, mode) for k in cast("list[object]", kind)
            )
        if kind is None and ("properties" in schema or "additionalProperties" in schema):
            kind = "object"
        simple = {"string": "string", "integer": "number", "number": "number"}
        if kind in simple or kind in ("boolean", "null"):
            return simple.get(str(kind), str(kind))
        if kind == "array":
            return self.ts_array(schema, mode)
        if kind == "object":
            return self.ts_object(schema, mode)
        return _JSON_TYPE

    def ts_array(self, schema: JsonSchema, mode: str) -> str:
        items = schema.get("items")
        if "prefixItems" not in schema:
            return f"Array<{_JSON_TYPE if items is None else self.ts_type(items, mode)}>"
        members = [self.ts_type(m, mode) for m in cast("list[object]", schema["prefixItems"])]
        if items is not False and schema.get("maxItems") != len(members):
            rest = _JSON_TYPE if items is None else self.ts_type(items, mode)
            members.append(f"...Array<{rest}>")
        return f"[{', '.join(members)}]"

    def ts_object(self, schema: JsonSchema, mode: str) -> str:
        extra: object = schema.get("additionalProperties")
        value = _JSON_TYPE if extra in (None, True) else self.ts_type(extra, mode)
        if "properties" not in schema and extra is not False:
            patterns = schema.get("patternProperties")
            if isinstance(patterns, Mapping):
                value = self.ts_type(next(iter(cast("JsonSchema", patterns).values())), mode)
            names: JsonSchema = schema.get("propertyNames") or {}
            if "enum" in names or "const" in names:
                return f"Partial<Record<{self.ts_type(names, mode)}, {value}>>"
            return f"Record<string, {value}>"
        required = cast("list[str]", schema.get("required", []))
        fields: list[str] = []
        properties = cast("Mapping[str, JsonSchema]", schema.get("properties", {}))
        for name, prop in properties.items():
            defaulted = "default" in prop
            optional = name not in required and (mode == "input" or not defaulted)
            type_ = self.ts_type(prop, mode)
            fields.append(
                f"{_key(name)}?: {type_} | undefined" if optional else f"{_key(name)}: {type_}"
            )
        shape = "{ " + "; ".join(fields) + " }" if fields else "{}"
        if extra is False or extra is None:
            return shape
        return f"{shape} & {{ [key: string]: {'unknown' if extra is True else value} }}"

    # -- schemas ---------------------------------------------------------------------------------

    def convert(self, node: object, path: Sequence[str]) -> _Expr:
        if node is True:
            return _Expr("z.json()")
        if node is False:
            return _Expr("z.never()")
        if not isinstance(node, Mapping):
            raise self.error(path, f"{node!r} is not a JSON Schema")
        schema = cast("JsonSchema", node)
        if "$ref" in schema:
            self.only(schema, path, {"$ref"})
            return self.reference(schema["$ref"], path)
        if "const" in schema:
            self.only(schema, path, {"const", "type"})
            if isinstance(schema["const"], dict | list):
                raise self.error(path, "a 'const' object or array")
            return _Expr(f"z.literal({_js(schema['const'])})")
        if "enum" in schema:
            self.only(schema, path, {"enum", "type"})
            return _Expr(_enum(schema["enum"], lambda m: self.error(path, m)))
        if "anyOf" in schema or "oneOf" in schema:
            return self.union(schema, path)
        if "allOf" in schema:
            self.only(schema, path, {"allOf"})
            members = schema["allOf"]
            if not isinstance(members, list) or len(cast("list[object]", members)) != 1:
                raise self.error(path, "'allOf' of several schemas (an intersection)")
            return self.convert(cast("list[object]", members)[0], path)
        kind = schema.get("type")
        if isinstance(kind, list):
            return self.type_list(schema, cast("list[object]", kind), path)
        if kind is None and ("properties" in schema or "additionalProperties" in schema):
            kind = "object"
        if kind is None:
            self.only(schema, path, set())
            return _Expr("z.json()")
        converters = {
            "string": self.string,
            "integer": self.number,
            "number": self.number,
            "boolean": self.simple,
            "null": self.simple,
            "array": self.array,
            "object": self.object_,
        }
        if kind not in converters:
            raise self.error(path, f"the type {kind!r}")
        return converters[kind](schema, path)

    def only(self, schema: JsonSchema, path: Sequence[str], allowed: set[str]) -> None:
        extra = sorted(set(schema) - allowed - _ANNOTATIONS)
        if extra:
            raise self.error(
                path,
                f"the keyword{'s' if len(extra) > 1 else ''} {', '.join(map(repr, extra))} (not expressible in Zod here)",
            )

    def type_list(self, schema: JsonSchema, kinds: list[object], path: Sequence[str]) -> _Expr:
        rest = [k for k in kinds if k != "null"]
        if len(rest) != 1:
            raise self.error(path, f"the type list {kinds!r}")
        inner = self.convert({**schema, "type": rest[0]}, path)
        return _Expr(inner.code + ".nullable()", inner.lazy) if "null" in kinds else inner

    def union(self, schema: JsonSchema, path: Sequence[str]) -> _Expr:
        keyword = "anyOf" if "anyOf" in schema else "oneOf"
        self.only(schema, path, {keyword, "discriminator"})
        members = schema[keyword]
        if not isinstance(members, list) or not members:
            raise self.error(path, f"'{keyword}' is not a list of schemas")
        nullable = False
        converted: list[_Expr] = []
        for index, member in enumerate(cast("list[object]", members)):
            if member == {"type": "null"}:
                nullable = True
                continue
            converted.append(self.convert(member, _child(path, f"|{index}")))
        lazy = any(c.lazy for c in converted)
        if not converted:
            return _Expr("z.null()")
        if len(converted) == 1:
            code = converted[0].code
        else:
            options = ", ".join(c.code for c in converted)
            discriminator: object = schema.get("discriminator")
            prop = (
                cast("JsonSchema", discriminator).get("propertyName")
                if isinstance(discriminator, Mapping)
                else None
            )
            if isinstance(prop, str) and all(c.object_ref for c in converted):
                code = f"z.discriminatedUnion({_js(prop)}, [{options}])"
            else:
                code = f"z.union([{options}])"
        return _Expr(code + (".nullable()" if nullable else ""), lazy)

    def simple(self, schema: JsonSchema, path: Sequence[str]) -> _Expr:
        self.only(schema, path, {"type"})
        return _Expr("z.boolean()" if schema["type"] == "boolean" else "z.null()")

    def string(self, schema: JsonSchema, path: Sequence[str]) -> _Expr:
        self.only(
            schema,
            path,
            {
                "type",
                "format",
                "minLength",
                "maxLength",
                "pattern",
                "x-regex-engine",
                "x-url-schemes",
            },
        )
        if schema.get("x-regex-engine", "rust-regex") != "rust-regex":
            raise self.error(
                path,
                f"a pattern for Python's re engine (its model sets regex_engine="
                f"{schema['x-regex-engine']!r}): the export translates patterns of Pydantic's "
                "default engine (Rust's regex) only",
            )
        fmt = schema.get("format")
        if fmt is None:
            code = "z.string()"
        elif fmt in _FORMATS:
            code = _FORMATS[str(fmt)]
        else:
            raise self.error(
                path,
                f"the string format {fmt!r} (exported formats: {', '.join(sorted(_FORMATS))})",
            )
        schemes = schema.get("x-url-schemes")
        if schemes is not None:
            if fmt != "uri" or not isinstance(schemes, list) or not schemes:
                raise self.error(path, f"the URL schemes {schemes!r}")
            words = "|".join(re.escape(str(scheme)) for scheme in cast("list[object]", schemes))
            code = f"z.url({{ protocol: /^(?:{words})$/ }})"  # as HttpUrl allows only these
        if "pattern" in schema:
            if code.startswith("z.union"):
                raise self.error(path, f"a pattern on the string format {fmt!r}")
            try:
                regex = js_regex(str(schema["pattern"]))
            except PatternError as error:
                raise self.error(path, f"the pattern: {error}") from None
            code += f".regex({regex})"
        for keyword, op, noun in (("minLength", ">=", "at least"), ("maxLength", "<=", "at most")):
            if keyword in schema:
                bound = self.count(schema, keyword, path)
                message = _js(f"Must have {noun} {bound} character{'s' if bound != 1 else ''}")
                code += f".refine((s) => [...s].length {op} {bound}, {message})"
        return _Expr(code)

    def count(self, schema: JsonSchema, keyword: str, path: Sequence[str]) -> int:
        value = schema[keyword]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.error(path, f"{keyword!r} is not a count: {value!r}")
        return value

    def number(self, schema: JsonSchema, path: Sequence[str]) -> _Expr:
        keywords = {
            "minimum": "gte",
            "maximum": "lte",
            "exclusiveMinimum": "gt",
            "exclusiveMaximum": "lt",
            "multipleOf": "multipleOf",
        }
        self.only(schema, path, {"type", *keywords})
        code = "z.int()" if schema["type"] == "integer" else "z.number()"
        for keyword, method in keywords.items():
            if keyword in schema:
                value = schema[keyword]
                if not isinstance(value, int | float) or isinstance(value, bool):
                    raise self.error(path, f"{keyword!r} is not a number: {value!r}")
                if keyword == "multipleOf" and schema["type"] == "number":
                    # Pydantic's float check: within 1e-9 of a multiple (Zod's is exact)
                    m = _js(value)
                    message = _js(f"Must be a multiple of {value}")
                    code += (
                        f".refine((x) => Math.abs(x - Math.round(x / {m}) * {m}) <= 1e-9, "
                        f"{message})"
                    )
                else:
                    code += f".{method}({_js(value)})"
        return _Expr(code)

    def array(self, schema: JsonSchema, path: Sequence[str]) -> _Expr:
        self.only(schema, path, {"type", "items", "prefixItems", "minItems", "maxItems"})
        items = schema.get("items")
        if "prefixItems" in schema:
            return self.tuple(schema, path)
        inner = self.convert(items, _child(path, "[]")) if items is not None else _Expr("z.json()")
        code = f"z.array({inner.code})"
        if "minItems" in schema:
            code += f".min({self.count(schema, 'minItems', path)})"
        if "maxItems" in schema:
            code += f".max({self.count(schema, 'maxItems', path)})"
        return _Expr(code, inner.lazy)

    def tuple(self, schema: JsonSchema, path: Sequence[str]) -> _Expr:
        prefix = schema["prefixItems"]
        if not isinstance(prefix, list):
            raise self.error(path, "'prefixItems' is not a list")
        members = [
            self.convert(member, _child(path, f"[{i}]"))
            for i, member in enumerate(cast("list[object]", prefix))
        ]
        size = len(members)
        low = self.count(schema, "minItems", path) if "minItems" in schema else 0
        high = self.count(schema, "maxItems", path) if "maxItems" in schema else None
        items = schema.get("items")
        if low != size:
            raise self.error(path, f"a tuple of {size} items that may have {low}")
        if items is False or high == size:
            rest = None
        elif items is None and high is None:
            rest = _Expr("z.json()")
        elif items is not None and high is None:
            rest = self.convert(items, _child(path, "[...]"))
        else:
            raise self.error(path, f"a tuple of {size} to {high} items")
        code = f"z.tuple([{', '.join(m.code for m in members)}]"
        code += f", {rest.code})" if rest is not None else ")"
        lazy = any(m.lazy for m in members) or (rest is not None and rest.lazy)
        return _Expr(code, lazy)

    def object_(self, schema: JsonSchema, path: Sequence[str]) -> _Expr:
        self.only(
            schema,
            path,
            {
                "type",
                "properties",
                "required",
                "additionalProperties",
                "patternProperties",
                "propertyNames",
                "minProperties",
                "maxProperties",
            },
        )
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        if properties is None and (
            isinstance(extra, Mapping)
            or "patternProperties" in schema
            or "propertyNames" in schema
            or extra in (None, True)
        ):
            expr = self.record(schema, path)
        else:
            expr = self.shape(schema, path)
        code = expr.code
        for keyword, op in (("minProperties", ">="), ("maxProperties", "<=")):
            if keyword in schema:
                bound = self.count(schema, keyword, path)
                noun = "at least" if op == ">=" else "at most"
                message = _js(f"Must have {noun} {bound} key{'s' if bound != 1 else ''}")
                code += f".refine((o) => Object.keys(o).length {op} {bound}, {message})"
        return _Expr(code, expr.lazy)

    def record(self, schema: JsonSchema, path: Sequence[str]) -> _Expr:
        extra = schema.get("additionalProperties")
        patterns = schema.get("patternProperties")
        names = schema.get("propertyNames")
        value: _Expr
        key = "z.string()"
        partial = False
        if patterns is not None:
            if not isinstance(patterns, Mapping) or len(cast("JsonSchema", patterns)) != 1:
                raise self.error(path, "'patternProperties' with several patterns")
            if names is not None or isinstance(extra, Mapping) or extra is True:
                raise self.error(path, "'patternProperties' with other key or value schemas")
            ((pattern, inner),) = cast("JsonSchema", patterns).items()
            key = self.string({"type": "string", "pattern": pattern}, _child(path, "{key}")).code
            value = self.convert(inner, _child(path, "{}"))
        else:
            value = _Expr("z.json()") if extra is None else self.convert(extra, _child(path, "{}"))
            if names is not None:
                key_expr = self.convert(names, _child(path, "{key}"))
                key = key_expr.code
                partial = isinstance(names, Mapping) and (
                    "enum" in cast("JsonSchema", names) or "const" in cast("JsonSchema", names)
                )
        function = "z.partialRecord" if partial else "z.record"
        return _Expr(f"{function}({key}, {value.code})", value.lazy)

    def shape(self, schema: JsonSchema, path: Sequence[str]) -> _Expr:
        if "patternProperties" in schema or "propertyNames" in schema:
            raise self.error(path, "'patternProperties' or 'propertyNames' beside 'properties'")
        properties = schema.get("properties", {})
        required = schema.get("required", [])
        if not isinstance(properties, Mapping) or not isinstance(required, list):
            raise self.error(path, "'properties' or 'required' is malformed")
        fields: list[str] = []
        for name, prop in cast("JsonSchema", properties).items():
            fields.append(
                self.field(
                    str(name), prop, str(name) in cast("list[str]", required), [*path, str(name)]
                )
            )
        extra = schema.get("additionalProperties")
        body = "{" + "".join(f"\n  {_indent(f)}," for f in fields) + "\n}" if fields else "{}"
        if extra is False:
            code = f"z.strictObject({body})"
        elif extra is True:
            code = f"z.looseObject({body})"
        elif extra is not None:
            rest = self.convert(extra, _child(path, "{}"))
            if rest.lazy:
                raise self.error(
                    path, "recursion through 'additionalProperties' beside 'properties'"
                )
            code = f"z.object({body}).catchall({rest.code})"
        else:
            code = f"z.object({body})"
        return _Expr(code)

    def field(self, name: str, prop: object, required: bool, path: Sequence[str]) -> str:
        expr = self.convert(prop, path)
        code = expr.code
        if not required:
            default = (
                cast("JsonSchema", prop).get("default", _MISSING)
                if isinstance(prop, Mapping)
                else _MISSING
            )
            # a None default of a type without None (Pydantic does not validate defaults)
            # cannot be Zod's: the field is left out, and the worker fills it
            if default is _MISSING or (default is None and not _takes_null(code)):
                code += ".optional()"
            elif isinstance(default, dict | list):  # a fresh copy per value
                code += f".default(() => ({_js(cast('object', default))}))"
            else:
                code += f".default({_js(default)})"
        key = _key(name)
        if expr.lazy:
            return f"get {key}() {{ return {code}; }}"
        return f"{key}: {code}"


_MISSING = object()
_JSON_TYPE = "z.core.util.JSONType"


def _indent(code: str) -> str:
    """``code`` with its second and later lines indented two more spaces."""
    return code.replace("\n", "\n  ")


def _union(types: Iterable[str]) -> str:
    return "(" + " | ".join(types) + ")"


def _takes_null(code: str) -> bool:
    return code.endswith(".nullable()") or code in ("z.null()", "z.json()")


def _child(path: Sequence[str], suffix: str) -> list[str]:
    """``path`` with ``suffix`` on its last part: ``Order.items`` → ``Order.items[]``."""
    return [*path[:-1], (path[-1] if path else "") + suffix]


def _key(name: str) -> str:
    if name == "__proto__":
        return '["__proto__"]'
    return name if _IDENTIFIER.fullmatch(name) else _js(name)


def _js(value: object) -> str:
    """``value`` (JSON data) as a JavaScript literal."""
    return (
        json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _enum(values: object, error: Callable[[str], ExportError]) -> str:
    if not isinstance(values, list) or not values:
        raise error("'enum' is not a non-empty list")
    members = cast("list[object]", values)
    if len(members) == 1:
        return f"z.literal({_js(members[0])})"
    if all(isinstance(v, str) for v in members):
        return f"z.enum([{', '.join(_js(v) for v in members)}])"
    if any(isinstance(v, dict | list) for v in members):
        raise error("an 'enum' of objects or arrays")
    return f"z.literal([{', '.join(_js(v) for v in members)}])"


def _is_model(schema: JsonSchema) -> bool:
    return isinstance(schema.get("title"), str) and "properties" in schema and "$ref" not in schema


def _is_object(schema: JsonSchema) -> bool:
    return "properties" in schema and schema.get("type", "object") == "object"


def _refs(node: object) -> list[str]:
    """The ``$defs`` names ``node`` refers to, in order of appearance (each once)."""
    found: list[str] = []

    def walk(item: object) -> None:
        if isinstance(item, Mapping):
            for key, value in cast("JsonSchema", item).items():
                if key == "$ref" and isinstance(value, str):
                    name = _ROOT if value == "#" else value.removeprefix("#/$defs/")
                    if name not in found:
                        found.append(name)
                else:
                    walk(value)
        elif isinstance(item, list):
            for value in cast("list[object]", item):
                walk(value)

    walk(node)
    return found
