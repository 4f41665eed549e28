"""The changes between two JSON Schemas of one payload or result, and which of them break.

A **payload** change breaks when the new worker rejects what the old schema
allowed: jobs already waiting in Redis, and producers not yet redeployed, send
the old shape. A **result** change breaks when the new worker returns what the
old schema did not allow: readers not yet redeployed (``…AndWait``, stored
results) validate new results against the old type. Each check is one
direction of "every value of one schema is a value of the other", on schemas
with ``$ref`` followed (recursion-safe) and unions split per JSON type; what
cannot be compared is an "unknown change", counted as breaking.

Objects are read as Pydantic writes them: no ``additionalProperties`` is
``extra="ignore"`` (a payload field the model lacks is accepted and dropped, a
result never carries one), ``false`` is ``"forbid"``, ``true`` is ``"allow"``.
A result field's ``required`` does not matter to readers: the worker stores
results with every field, defaulted ones included.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal, cast

from .resolve import ANNOTATIONS, KINDS, Alternative, Resolver, accepts, as_schema, show

__all__ = ["SchemaChange", "Side", "diff_schemas"]

Side = Literal["payload", "result"]

_NUMBER_KEYS = frozenset(
    {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
)
_HANDLED: dict[str, frozenset[str]] = {
    "null": frozenset(),
    "boolean": frozenset(),
    "integer": _NUMBER_KEYS,
    "number": _NUMBER_KEYS,
    "string": frozenset({"minLength", "maxLength", "pattern", "format"}),
    "array": frozenset({"items", "prefixItems", "minItems", "maxItems", "uniqueItems"}),
    "object": frozenset(
        {"properties", "required", "additionalProperties", "minProperties", "maxProperties"}
    ),
}
_MISSING = object()

PAYLOAD_BREAKS = (
    "jobs already waiting, and producers not yet redeployed, may send values it rejects"
)
RESULT_BREAKS = "readers not yet redeployed may get results they reject"
PAYLOAD_SAFE = "the new worker still accepts what the old one did"
RESULT_SAFE = "readers not yet redeployed still accept the new results"
UNKNOWN_WHY = "cannot be compared automatically: review it by hand (counted as breaking)"

Bound = tuple[float, bool] | None
"""A numeric bound: its value and whether it is exclusive; ``None`` for no bound."""


@dataclass(frozen=True, slots=True)
class SchemaChange:
    """One change at ``path`` (``payload.items[].sku``), and whether it breaks, and why."""

    path: str
    breaking: bool
    what: str
    why: str


def diff_schemas(old: Mapping[str, Any], new: Mapping[str, Any], side: Side) -> list[SchemaChange]:
    """The changes from ``old`` to ``new``, the JSON Schemas of a job's ``side``."""
    walk = _Walk(old, new, side)
    walk.node(old, new, side)
    return walk.changes


class _Walk:
    def __init__(self, old: Mapping[str, Any], new: Mapping[str, Any], side: Side) -> None:
        self.old = Resolver(old)
        self.new = Resolver(new)
        self.payload = side == "payload"
        self.changes: list[SchemaChange] = []
        self._active: set[tuple[str, str]] = set()

    # -- reporting --------------------------------------------------------------------------------

    def report(
        self,
        path: str,
        what: str,
        *,
        narrows: bool,
        widens: bool,
        narrow_why: str = PAYLOAD_BREAKS,
        widen_why: str = RESULT_BREAKS,
        safe_why: str | None = None,
    ) -> None:
        """Record a change: ``narrows`` (the new schema rejects something the old allowed)
        breaks a payload, ``widens`` (the new allows something the old rejected) a result."""
        if self.payload and narrows:
            change = SchemaChange(path, True, what, narrow_why)
        elif not self.payload and widens:
            change = SchemaChange(path, True, what, widen_why)
        else:
            safe = safe_why or (PAYLOAD_SAFE if self.payload else RESULT_SAFE)
            change = SchemaChange(path, False, what, safe)
        self.changes.append(change)

    def unknown(self, path: str, what: str) -> None:
        """Record a change this cannot judge, as breaking."""
        self.changes.append(
            SchemaChange(path, True, f"unknown change (review by hand): {what}", UNKNOWN_WHY)
        )

    # -- nodes and unions -------------------------------------------------------------------------

    def node(self, old: object, new: object, path: str) -> None:
        """Compare two schema nodes (any of ``$ref``, union, enum, typed)."""
        olds = self.old.alternatives(old)
        news = self.new.alternatives(new)
        if any(a.kind == "unknown" for a in (*olds, *news)):
            if _canonical(olds) != _canonical(news):
                keys = sorted(
                    {k for a in (*olds, *news) if a.kind == "unknown" for k in a.schema}
                    - ANNOTATIONS
                )
                self.unknown(path, "schema with " + (", ".join(keys) or "an unreadable $ref"))
            return
        old_any = any(a.kind == "any" for a in olds)
        new_any = any(a.kind == "any" for a in news)
        if old_any or new_any:
            if new_any and not old_any:
                self.report(
                    path,
                    f"type widened {_names(olds)} → any",
                    narrows=False,
                    widens=True,
                    widen_why=f"readers not yet redeployed expect {_names(olds)}",
                )
            elif old_any and not new_any:
                self.report(
                    path,
                    f"type narrowed any → {_names(news)}",
                    narrows=True,
                    widens=False,
                    narrow_why="jobs already waiting may carry any JSON value",
                )
            return
        self._enums(olds, news, path)
        self._typed(olds, news, path)

    def _enums(self, olds: list[Alternative], news: list[Alternative], path: str) -> None:
        old_values = [v for a in olds if a.values is not None for v in a.values]
        new_values = [v for a in news if a.values is not None for v in a.values]
        removed = [v for v in old_values if not accepts(news, v)]
        added = [v for v in new_values if not accepts(olds, v)]
        if removed:
            them = "it" if len(removed) == 1 else "them"
            self.report(
                path,
                f"enum {_plural('value', removed)} {show(removed)} removed",
                narrows=True,
                widens=False,
                narrow_why=f"jobs already waiting may carry {them}",
            )
        if added:
            them = "it" if len(added) == 1 else "them"
            self.report(
                path,
                f"enum {_plural('value', added)} {show(added)} added",
                narrows=False,
                widens=True,
                widen_why=f"readers not yet redeployed do not know {them}",
            )

    def _typed(self, olds: list[Alternative], news: list[Alternative], path: str) -> None:
        old_typed = [a for a in olds if a.values is None]
        new_typed = [a for a in news if a.values is None]
        lone_old: list[Alternative] = []
        lone_new: list[Alternative] = []
        for kind in KINDS:
            old_of = [a for a in old_typed if a.kind == kind]
            new_of = [a for a in new_typed if a.kind == kind]
            if old_of and new_of:
                self._members(old_of, new_of, path)
            else:
                lone_old += old_of
                lone_new += new_of
        rest_old: list[Alternative] = []
        rest_new: list[Alternative] = []
        for a in lone_old:
            if a.kind == "number" and _first(lone_new, "integer") is not None:
                continue  # reported below
            if a.kind == "integer" and (wider := _first(lone_new, "number")) is not None:
                self.report(
                    path,
                    "type widened integer → number",
                    narrows=False,
                    widens=True,
                    widen_why="readers not yet redeployed expect whole numbers",
                )
                self._pair(a, wider, path)
            elif a.kind == "integer" and _first(new_typed, "number") is not None:
                continue  # a number in the new union still takes them
            elif a.kind == "null" and _non_null(olds) and _non_null(news):
                if accepts(news, None):  # as an enum value (Literal[None])
                    continue
                self.report(
                    path,
                    "no longer nullable",
                    narrows=True,
                    widens=False,
                    narrow_why="jobs already waiting may carry null",
                )
            elif (enum := _enum_of(news, a.kind)) is not None:
                self.report(
                    path,
                    f"type narrowed {a.name} → {enum.name}",
                    narrows=True,
                    widens=False,
                    narrow_why=f"jobs already waiting may carry any {a.kind}",
                )
            else:
                rest_old.append(a)
        for b in lone_new:
            if b.kind == "number" and _first(lone_old, "integer") is not None:
                continue  # reported above
            if b.kind == "integer" and (wider := _first(lone_old, "number")) is not None:
                self.report(
                    path,
                    "type narrowed number → integer",
                    narrows=True,
                    widens=False,
                    narrow_why="jobs already waiting may carry fractions",
                )
                self._pair(wider, b, path)
            elif b.kind == "integer" and _first(old_typed, "number") is not None:
                continue  # the old union's number took them already
            elif b.kind == "null" and _non_null(olds) and _non_null(news):
                if accepts(olds, None):
                    continue
                self.report(
                    path,
                    "made nullable",
                    narrows=False,
                    widens=True,
                    widen_why="readers not yet redeployed do not expect null",
                )
            elif (enum := _enum_of(olds, b.kind)) is not None:
                self.report(
                    path,
                    f"type widened {enum.name} → {b.name}",
                    narrows=False,
                    widens=True,
                    widen_why=f"readers not yet redeployed expect only {show(enum.values or ())}",
                )
            else:
                rest_new.append(b)
        if rest_old and rest_new:
            self.report(
                path,
                f"type changed {_names(rest_old)} → {_names(rest_new)}",
                narrows=True,
                widens=True,
                narrow_why=f"jobs already waiting may carry {_names(rest_old)}",
                widen_why=f"readers not yet redeployed expect {_names(rest_old)}",
            )
            return
        for a in rest_old:
            self.report(
                path,
                f"type {a.name} no longer accepted",
                narrows=True,
                widens=False,
                narrow_why=f"jobs already waiting may carry {a.name}",
            )
        for b in rest_new:
            self.report(
                path,
                f"type {b.name} now accepted",
                narrows=False,
                widens=True,
                widen_why=f"readers not yet redeployed do not expect {b.name}",
            )

    def _members(self, olds: list[Alternative], news: list[Alternative], path: str) -> None:
        """Pair the alternatives of one JSON type: by model name, tag (discriminator), title."""
        if len(olds) == 1 and len(news) == 1:
            self._pair(olds[0], news[0], path)
            return
        left_old, left_new = list(olds), list(news)
        pairs: list[tuple[Alternative, Alternative]] = []
        keys: list[Callable[[Alternative], Hashable]] = [
            lambda a: a.ref,
            _tag,
            lambda a: cast("Hashable", a.schema.get("title")),
        ]
        for key in keys:
            for a in list(left_old):
                wanted = key(a)
                same = [b for b in left_new if wanted is not None and key(b) == wanted]
                if len(same) == 1 and [key(x) for x in left_old].count(wanted) == 1:
                    pairs.append((a, same[0]))
                    left_old.remove(a)
                    left_new.remove(same[0])
        if len(left_old) == 1 and len(left_new) == 1:
            pairs.append((left_old.pop(), left_new.pop()))
        for a, b in pairs:
            label = a.name if a.name == b.name else f"{a.name}→{b.name}"
            self._pair(a, b, f"{path}({label})")
        for a in left_old:
            self.report(
                path,
                f"union member {a.name} removed",
                narrows=True,
                widens=False,
                narrow_why=f"jobs already waiting may carry a {a.name}",
            )
        for b in left_new:
            self.report(
                path,
                f"union member {b.name} added",
                narrows=False,
                widens=True,
                widen_why=f"readers not yet redeployed do not know {b.name}",
            )

    def _pair(self, a: Alternative, b: Alternative, path: str) -> None:
        """Compare two alternatives of one JSON type (integer/number together)."""
        key = (a.ref, b.ref) if a.ref is not None and b.ref is not None else None
        if key is not None:
            if key in self._active:  # a recursive model: this pair is being compared already
                return
            self._active.add(key)
        try:
            if a.kind in ("integer", "number"):
                self._numbers(a.schema, b.schema, path)
            elif a.kind == "string":
                self._strings(a.schema, b.schema, path)
            elif a.kind == "array":
                self._arrays(a.schema, b.schema, path)
            elif a.kind == "object":
                self._objects(a.schema, b.schema, path)
            known = _HANDLED[a.kind] | _HANDLED[b.kind] | ANNOTATIONS | {"type", "enum", "const"}
            for keyword in sorted((set(a.schema) | set(b.schema)) - known):
                if a.schema.get(keyword, _MISSING) != b.schema.get(keyword, _MISSING):
                    self.unknown(path, f"keyword {keyword!r} changed")
        finally:
            if key is not None:
                self._active.discard(key)

    # -- keywords per type ------------------------------------------------------------------------

    def _numbers(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> None:
        for lower in (True, False):
            self._bound(
                path,
                "minimum" if lower else "maximum",
                (_numeric_bound(old, lower), _numeric_bound(new, lower)),
                lower,
            )
        before, after = old.get("multipleOf"), new.get("multipleOf")
        if before == after:
            return
        if before is None or after is None:
            tighter, looser = before is None, after is None
        else:
            ratio = Fraction(str(after)) / Fraction(str(before))
            tighter, looser = ratio.denominator == 1, ratio.numerator == 1
            tighter, looser = (tighter, looser) if tighter or looser else (True, True)
        self.report(
            path,
            f"multipleOf {_shown(before)} → {_shown(after)}",
            narrows=tighter,
            widens=looser,
            narrow_why="jobs already waiting may carry values that are not multiples",
            widen_why="readers not yet redeployed check the old multiple",
        )

    def _strings(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> None:
        self._lengths(old, new, path, "minLength", "maxLength")
        for keyword in ("pattern", "format"):
            before, after = old.get(keyword), new.get(keyword)
            if before == after:
                continue
            if before is None:
                what = f"{keyword} {_shown(after)} added"
            elif after is None:
                what = f"{keyword} {_shown(before)} removed"
            else:
                what = f"{keyword} changed {_shown(before)} → {_shown(after)}"
            self.report(
                path,
                what,
                narrows=after is not None,
                widens=before is not None,
                narrow_why=f"jobs already waiting may carry strings the new {keyword} rejects",
                widen_why=f"readers not yet redeployed check the old {keyword}",
            )

    def _arrays(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> None:
        self._lengths(old, new, path, "minItems", "maxItems")
        unique_before, unique_after = bool(old.get("uniqueItems")), bool(new.get("uniqueItems"))
        if unique_before != unique_after:
            self.report(
                path,
                "items made unique" if unique_after else "items no longer unique",
                narrows=unique_after,
                widens=unique_before,
                narrow_why="jobs already waiting may carry repeated items",
                widen_why="readers not yet redeployed expect unique items",
            )
        old_prefix = cast("Sequence[object]", old.get("prefixItems", ()))
        new_prefix = cast("Sequence[object]", new.get("prefixItems", ()))
        if bool(old_prefix) != bool(new_prefix):
            self.report(
                path,
                "a list became a tuple" if new_prefix else "a tuple became a list",
                narrows=True,
                widens=True,
                narrow_why="jobs already waiting may carry the old form",
                widen_why="readers not yet redeployed expect the old form",
            )
            return
        for index in range(min(len(old_prefix), len(new_prefix))):
            self.node(old_prefix[index], new_prefix[index], f"{path}[{index}]")
        self.node(old.get("items", {}), new.get("items", {}), f"{path}[]")

    def _objects(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> None:
        old_props = cast("Mapping[str, object]", old.get("properties", {}))
        new_props = cast("Mapping[str, object]", new.get("properties", {}))
        removed = [name for name in old_props if name not in new_props]
        added = [name for name in new_props if name not in old_props]
        renamed = len(removed) == 1 and len(added) == 1
        for name in old_props:
            if name in new_props:
                self._property(old, new, name, path)
        for name in removed:
            hint = f" (renamed to {added[0]!r}?)" if renamed else ""
            self._removed(old, new, name, f"{path}.{name}", hint)
        for name in added:
            hint = f" (renamed from {removed[0]!r}?)" if renamed else ""
            self._added(old, new, name, f"{path}.{name}", hint)
        self._extras(old.get("additionalProperties"), new.get("additionalProperties"), path)
        self._lengths(old, new, path, "minProperties", "maxProperties")

    def _property(
        self, old: Mapping[str, Any], new: Mapping[str, Any], name: str, path: str
    ) -> None:
        sub = f"{path}.{name}"
        before: object = old["properties"][name]
        after: object = new["properties"][name]
        was_required = name in old.get("required", ())
        is_required = name in new.get("required", ())
        old_default = _default(before)
        new_default = _default(after)
        if is_required and not was_required:
            dropped = (
                f" (default {_shown(old_default)} removed)" if old_default is not _MISSING else ""
            )
            self.report(
                sub,
                "made required" + dropped,
                narrows=True,
                widens=False,
                narrow_why="jobs already waiting may lack it",
            )
        elif was_required and not is_required:
            given = f" (default {_shown(new_default)})" if new_default is not _MISSING else ""
            self.report(
                sub,
                "made optional" + given,
                narrows=False,
                widens=False,  # results: the worker stores every field, defaulted ones too
                safe_why=None
                if self.payload
                else "new results still carry it (stored with every field, defaults included)",
            )
        elif self.payload and not is_required and old_default != new_default:
            self.report(
                sub,
                f"default changed {_shown(old_default)} → {_shown(new_default)}",
                narrows=False,
                widens=False,
                safe_why=f"jobs that omit it now get {_shown(new_default)}",
            )
        self.node(before, after, sub)

    def _removed(
        self, old: Mapping[str, Any], new: Mapping[str, Any], name: str, path: str, hint: str
    ) -> None:
        extras: object = new.get("additionalProperties")
        typed = as_schema(extras)
        if self.payload:
            forbidden = extras is False
            self.report(
                path,
                "field removed" + hint,
                narrows=forbidden,
                widens=True,
                narrow_why="the new model forbids extra fields: jobs already waiting that carry "
                "it fail validation",
                safe_why="jobs that carry it still validate"
                + ("" if typed is not None else ": the new model ignores the value"),
            )
            if typed is not None:
                self.node(old["properties"][name], typed, path)
            return
        required = name in old.get("required", ())
        self.report(
            path,
            "field removed" + hint,
            narrows=False,
            widens=required,
            widen_why="readers not yet redeployed expect it",
            safe_why="readers not yet redeployed already allow it missing (it was optional)",
        )

    def _added(
        self, old: Mapping[str, Any], new: Mapping[str, Any], name: str, path: str, hint: str
    ) -> None:
        extras: object = old.get("additionalProperties")
        typed = as_schema(extras)
        schema: object = new["properties"][name]
        if self.payload:
            required = name in new.get("required", ())
            default = _default(schema)
            given = f" (default {_shown(default)})" if default is not _MISSING else ""
            self.report(
                path,
                ("required field added" if required else "optional field added" + given) + hint,
                narrows=required,
                widens=False,
                narrow_why="jobs already waiting lack it",
            )
        else:
            self.report(
                path,
                "field added" + hint,
                narrows=False,
                widens=extras is False,
                widen_why="readers not yet redeployed forbid extra fields",
                safe_why="readers not yet redeployed ignore it",
            )
        if typed is not None:  # the old model typed its extra fields: this was one
            self.node(typed, schema, path)

    def _extras(self, old: object, new: object, path: str) -> None:
        """``additionalProperties``: absent (ignored), ``false``, ``true``, or a schema (dict)."""
        old_typed, new_typed = as_schema(old), as_schema(new)
        if old_typed is not None and new_typed is not None:
            self.node(old_typed, new_typed, f"{path}{{}}")
            return
        if old == new:
            return
        before = 1 if old_typed is not None else (0 if old is False else 2)
        if self.payload:
            after = 1 if new_typed is not None else (0 if new is False else 2)
        else:  # what new results carry: only declared fields unless extra="allow" (or typed)
            after = 1 if new_typed is not None else (2 if new is True else 0)
        self.report(
            path,
            f"extra fields {_extras_kind(old)} → {_extras_kind(new)}",
            narrows=after < before,
            widens=after > before,
            narrow_why="jobs already waiting may carry fields the old model accepted",
            widen_why="readers not yet redeployed reject extra fields",
        )

    def _lengths(
        self, old: Mapping[str, Any], new: Mapping[str, Any], path: str, low: str, high: str
    ) -> None:
        for keyword, lower in ((low, True), (high, False)):
            before, after = old.get(keyword), new.get(keyword)
            self._bound(
                path,
                keyword,
                (
                    None if before is None else (before, False),
                    None if after is None else (after, False),
                ),
                lower,
            )

    def _bound(self, path: str, label: str, bounds: tuple[Bound, Bound], lower: bool) -> None:
        """A lower (``minimum``, ``minLength``...) or upper bound changed: tighter narrows."""
        before, after = bounds
        if before == after:
            return
        plain = not label.endswith("imum")  # lengths and counts: the number alone
        old_text, new_text = _show_bound(before, lower, plain), _show_bound(after, lower, plain)
        self.report(
            path,
            f"{label} {old_text} → {new_text}",
            narrows=_tighter(after, before, lower),
            widens=_tighter(before, after, lower),
            narrow_why=f"jobs already waiting may carry values outside {label} {new_text}",
            widen_why=f"readers not yet redeployed check {label} {old_text}",
        )


# -- helpers ----------------------------------------------------------------------------------


def _canonical(alternatives: Sequence[Alternative]) -> list[str]:
    return sorted(json.dumps(a.schema, sort_keys=True, default=str) for a in alternatives)


def _names(alternatives: Sequence[Alternative]) -> str:
    return " | ".join(dict.fromkeys(a.name for a in alternatives))


def _plural(noun: str, items: Sequence[object]) -> str:
    return noun if len(items) == 1 else noun + "s"


def _first(alternatives: Sequence[Alternative], kind: str) -> Alternative | None:
    return next((a for a in alternatives if a.kind == kind and a.values is None), None)


def _non_null(alternatives: Sequence[Alternative]) -> bool:
    """Whether a value other than null matches (so null is an option, not the type)."""
    return any(a.kind != "null" for a in alternatives)


def _enum_of(alternatives: Sequence[Alternative], kind: str) -> Alternative | None:
    return next((a for a in alternatives if a.kind == kind and a.values is not None), None)


def _tag(alternative: Alternative) -> Hashable:
    """The constant fields of an object alternative (a discriminated union's tag)."""
    properties = cast("Mapping[str, object]", alternative.schema.get("properties", {}))
    consts: list[tuple[str, str]] = []
    for name, schema in properties.items():
        if isinstance(schema, Mapping) and "const" in schema:
            consts.append((name, json.dumps(cast("Mapping[str, Any]", schema)["const"])))
    return tuple(sorted(consts)) or None


def _shown(value: object) -> str:
    return "none" if value is _MISSING or value is None else json.dumps(value, sort_keys=True)


def _extras_kind(value: object) -> str:
    if as_schema(value) is not None:
        return "typed"
    return "forbidden" if value is False else "kept" if value is True else "ignored"


def _default(schema: object) -> object:
    """A property's ``default``, or ``_MISSING``."""
    found = as_schema(schema)
    return _MISSING if found is None else found.get("default", _MISSING)


def _numeric_bound(schema: Mapping[str, Any], lower: bool) -> Bound:
    inclusive = schema.get("minimum" if lower else "maximum")
    exclusive = schema.get("exclusiveMinimum" if lower else "exclusiveMaximum")
    bounds: list[tuple[float, bool]] = []
    if inclusive is not None:
        bounds.append((inclusive, False))
    if exclusive is not None:
        bounds.append((exclusive, True))
    best: Bound = None
    for bound in bounds:
        if _tighter(bound, best, lower):
            best = bound
    return best


def _tighter(this: Bound, than: Bound, lower: bool) -> bool:
    """Whether bound ``this`` allows strictly fewer values than ``than``."""
    if this is None:
        return False
    if than is None:
        return True
    if this[0] != than[0]:
        return this[0] > than[0] if lower else this[0] < than[0]
    return this[1] and not than[1]


def _show_bound(bound: Bound, lower: bool, plain: bool) -> str:
    if bound is None:
        return "none"
    value = json.dumps(bound[0])
    if plain:
        return value
    return (">" if lower else "<") + ("" if bound[1] else "=") + " " + value
