"""The exported Zod schemas agree with Pydantic: property-based, against real Zod in Node.

Hypothesis draws a Pydantic model from a small grammar of types (strings with
lengths and patterns, numbers with bounds and ``multiple_of``, booleans,
literals, enums, nullable and defaulted fields, lists, dicts, tuples, nested
models, dates, datetimes, UUIDs, unions, a discriminated union, aliases), and
JSON values for it: valid ones, and near misses (too long, out of range, not a
multiple, a wrong enum value, a required key missing, a Python name where the
alias belongs, null where not nullable, a wrong type). The model's JSON Schema,
as the contract has it (validation mode, by alias), goes through the exporter's
JSON Schema to Zod conversion; one Node process, for the whole session, answers
Zod's verdict on every value (``node/zod_check.js``). The property: on every
value, Zod's verdict is Pydantic's, as the worker validates
(``model_validate_json``, lax mode).

Left out of the drawn values, by construction (``test_lax_coercions_are_the_worker_s_alone``
pins each): Pydantic's lax coercions, which the contract's JSON Schema, hence Zod, does not
allow: a number in a string for a number, ``true`` for a number or for the int literal ``1``,
``0``/``1``/``"yes"`` for a boolean, a Unix time, a date alone, a space for ``T`` or an offset
without its colon for a datetime, a UUID without hyphens; and integers beyond ±(2**53 - 1),
which a Node producer cannot hold exactly. On all of these a Node producer is stricter than
the worker: the safe way. E-mail fields need ``email-validator``, which the project does not
install: not drawn. Known disagreements are ``test_known_disagreements`` (strict xfail: each
fails until the exporter matches Pydantic there).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from enum import Enum, IntEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, TypeAdapter, ValidationError, create_model

from bullmq_codegen.contract.loading import payload_json_schema
from bullmq_codegen.contract.zod import zod_schema
from bullmq_codegen.testing.node import node_typescript

CHECKER = Path(__file__).parent / "node" / "zod_check.js"

JSON = Any
"""A JSON value as ``json.loads`` gives it."""

# --- The Zod worker: one Node process for the session ------------------------------------------


class ZodChecker:
    """A Node process answering Zod's verdict on values, one request a line."""

    def __init__(self, node_modules: Path) -> None:
        self._process = subprocess.Popen(
            ["node", str(CHECKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "NODE_PATH": str(node_modules)},
        )

    def verdicts(self, source: str, name: str, values: Sequence[JSON]) -> list[tuple[bool, str]]:
        """Whether the schema ``name`` that JavaScript ``source`` defines accepts each value,
        with Zod's first issue when not."""
        process = self._process
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write(json.dumps({"source": source, "name": name, "values": values}) + "\n")
        process.stdin.flush()
        line = process.stdout.readline()
        if not line:
            assert process.stderr is not None
            raise RuntimeError(f"zod_check.js ended: {process.stderr.read()}")
        answer = json.loads(line)
        if "error" in answer:
            raise AssertionError(f"Zod source does not evaluate:\n{source}\n{answer['error']}")
        return [
            (ok, issue or "")
            for ok, issue in zip(answer["accepted"], answer["issues"], strict=True)
        ]

    def close(self) -> None:
        """End the Node process."""
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=30)


@pytest.fixture(scope="session")
def zod() -> Iterator[ZodChecker]:
    modules = node_typescript()
    if modules is None:
        pytest.skip("Node and npm are needed (Zod is installed from the npm registry)")
    checker = ZodChecker(modules)
    yield checker
    checker.close()


def zod_source(schema: dict[str, Any], where: str) -> str:
    """JavaScript defining ``S``: the exporter's Zod schema of ``schema``."""
    return f"const S = {zod_schema(schema, where)};"


# --- The grammar: a type, its valid JSON values, its near misses -------------------------------

JUNK_TEXT = "zz-junk"
"""A string no non-string type of the grammar accepts, not even by lax coercion."""


@dataclass(frozen=True, repr=False)
class Shape:
    """One type of the grammar and JSON values of it: Pydantic accepts each ``valid`` one and
    rejects each ``invalid`` one (near misses and wrong types, no lax coercion among them)."""

    annotation: Any
    valid: st.SearchStrategy[JSON]
    invalid: st.SearchStrategy[JSON]
    junk: tuple[JSON, ...] = field(default=())
    """Values of the wrong JSON type this type rejects (shared with unions)."""

    def __repr__(self) -> str:  # what a failing example shows
        if isinstance(self.annotation, type) and issubclass(self.annotation, BaseModel):
            return json.dumps(self.annotation.model_json_schema(by_alias=True))
        return repr(self.annotation)


def _with_junk(
    annotation: Any,
    valid: st.SearchStrategy[JSON],
    near: Sequence[st.SearchStrategy[JSON]],
    junk: tuple[JSON, ...],
) -> Shape:
    junk = (*junk, None)
    return Shape(annotation, valid, st.one_of(*near, st.sampled_from(junk)), junk)


CHARACTERS = st.one_of(
    st.characters(codec="utf-8"), st.sampled_from(["😀", "\U0001d518", "é", "\n", "\u0000"])
)
"""Any character, astral ones often (a code point, two UTF-16 units: lengths differ)."""


def _text(min_size: int = 0, max_size: int | None = None) -> st.SearchStrategy[str]:
    return st.text(CHARACTERS, min_size=min_size, max_size=max_size)


_names = itertools.count()


def _unique(prefix: str) -> str:
    return f"{prefix}{next(_names)}"


@st.composite
def strings(draw: st.DrawFn) -> Shape:
    pattern = draw(
        st.sampled_from([None, None, r"^[a-z]+$", r"^[A-Z]{2}-[0-9]{3}$", r"[0-9]", r"^(foo|bar)"])
    )
    low = draw(st.sampled_from([None, 0, 1, 3]))
    high = draw(st.sampled_from([None, 1, 6, 12]))
    if low is not None and high is not None and high < low:
        low, high = high, low
    if pattern == r"^[A-Z]{2}-[0-9]{3}$":  # exactly 6 characters long
        low, high = (None if low is None else min(low, 6)), (None if high is None else max(high, 6))
    if pattern is not None and high is not None and high < 3:  # room for a match
        high = 3
    constraints = Field(min_length=low, max_length=high, pattern=pattern)
    lowest, highest = low or 0, high
    if pattern is None:
        valid = _text(min_size=lowest, max_size=highest if highest is not None else 20)
    else:
        # an unanchored pattern is searched for (in Pydantic, JSON Schema and Zod alike)
        whole = pattern.startswith("^") and pattern.endswith("$")
        valid = st.from_regex(pattern, fullmatch=whole).filter(
            lambda text: len(text) >= lowest and (highest is None or len(text) <= highest)
        )
    near: list[st.SearchStrategy[JSON]] = []
    if low:
        near.append(_text(min_size=0, max_size=low - 1))
    if high is not None:
        near.append(_text(min_size=high + 1, max_size=high + 4))
    if pattern is not None:
        near.append(
            _text(min_size=lowest, max_size=highest if highest is not None else 20).filter(
                lambda text: re.search(pattern, text) is None
            )
        )
    return _with_junk(Annotated[str, constraints], valid, near, (7, 1.5, True, [], {}))


def _bounds(draw: st.DrawFn, choices: Sequence[float]) -> dict[str, float]:
    """``ge`` or ``gt``, ``le`` or ``lt``, each maybe, low below high."""
    low, high = sorted(
        draw(st.lists(st.sampled_from(choices), min_size=2, max_size=2, unique=True))
    )
    bounds: dict[str, float] = {}
    if draw(st.booleans()):
        bounds[draw(st.sampled_from(["ge", "gt"]))] = low
    if draw(st.booleans()):
        bounds[draw(st.sampled_from(["le", "lt"]))] = high
    return bounds


def _inside(bounds: dict[str, float], value: float) -> bool:
    return (
        value >= bounds.get("ge", -float("inf"))
        and value > bounds.get("gt", -float("inf"))
        and value <= bounds.get("le", float("inf"))
        and value < bounds.get("lt", float("inf"))
    )


def _outside(bounds: dict[str, float], step: float) -> list[float]:
    """Values just past each bound (the exclusive bound itself among them)."""
    values: list[float] = []
    if "ge" in bounds:
        values.append(bounds["ge"] - step)
    if "gt" in bounds:
        values += [bounds["gt"], bounds["gt"] - step]
    if "le" in bounds:
        values.append(bounds["le"] + step)
    if "lt" in bounds:
        values += [bounds["lt"], bounds["lt"] + step]
    return values


LIMIT = 10**15
"""Integers stay well inside a JavaScript number's exact range."""


@st.composite
def integers(draw: st.DrawFn) -> Shape:
    bounds = {key: int(value) for key, value in _bounds(draw, range(-20, 40, 3)).items()}
    multiple = draw(st.sampled_from([None, None, 2, 3, 5]))
    low = max(bounds.get("ge", -LIMIT), bounds.get("gt", -LIMIT - 1) + 1)
    high = min(bounds.get("le", LIMIT), bounds.get("lt", LIMIT + 1) - 1)
    if multiple is not None and -(-low // multiple) > high // multiple:
        multiple = None  # no multiple between the bounds
    step = multiple or 1
    whole = st.integers(-(-low // step), high // step).map(lambda k: k * step)
    valid = st.one_of(whole, whole.map(float))  # 4.0 is an integer too, in JSON
    near: list[st.SearchStrategy[JSON]] = [whole.map(lambda number: number + 0.5)]
    outside = [int(value) for value in _outside(bounds, step)]
    if outside:
        near.append(st.sampled_from(outside))
    if multiple is not None:
        near.append(whole.map(lambda number: number + 1))
    annotation = Annotated[int, Field(multiple_of=multiple, **bounds)]
    return _with_junk(annotation, valid, near, (JUNK_TEXT, [], {}))


@st.composite
def floats(draw: st.DrawFn) -> Shape:
    bounds = _bounds(draw, [-10.5, -1.0, 0.0, 0.25, 1.0, 2.5, 100.0])
    multiple = draw(st.sampled_from([None, None, 0.5, 0.25, 0.1, 2.0]))
    low = max(bounds.get("ge", -1e6), bounds.get("gt", -1e6))
    high = min(bounds.get("le", 1e6), bounds.get("lt", 1e6))
    candidates = range(int(low / (multiple or 1)) - 1, int(high / (multiple or 1)) + 2)
    if multiple is not None and not any(_inside(bounds, k * multiple) for k in candidates[:100]):
        multiple = None  # no multiple between the bounds
    if multiple is None:
        valid = st.floats(
            min_value=bounds.get("ge", bounds.get("gt")),
            max_value=bounds.get("le", bounds.get("lt")),
            exclude_min="gt" in bounds,
            exclude_max="lt" in bounds,
            allow_nan=False,
            allow_infinity=False,
        )
    else:
        valid = (
            st.integers(int(low / multiple) - 1, int(high / multiple) + 1)
            .map(lambda k: k * multiple)
            .filter(lambda number: _inside(bounds, number))
        )
    near: list[st.SearchStrategy[JSON]] = []
    outside = _outside(bounds, multiple or 0.5)
    if outside:
        near.append(st.sampled_from(outside))
    if multiple is not None:
        near.append(
            valid.map(lambda number: number + multiple / 2).filter(lambda n: _inside(bounds, n))
        )
    annotation = Annotated[float, Field(multiple_of=multiple, **bounds)]
    return _with_junk(annotation, valid, near, (JUNK_TEXT, [], {}))


def booleans() -> st.SearchStrategy[Shape]:
    return st.just(_with_junk(bool, st.booleans(), [], (JUNK_TEXT, 7, 1.5, [], {})))


LITERALS: tuple[str | int, ...] = ("a", "b", "red", "GREEN", "with space", 0, 1, 42, -3)


@st.composite
def literals(draw: st.DrawFn) -> Shape:
    members = tuple(draw(st.lists(st.sampled_from(LITERALS), min_size=1, max_size=3, unique=True)))
    near = st.sampled_from(["A", "zz", "Red", 2, 43, "1"]).filter(
        lambda value: value not in members
    )
    return _with_junk(
        Literal[members], st.sampled_from(members), [near], (JUNK_TEXT, 987654, 1.5, [], {})
    )


@st.composite
def enums(draw: st.DrawFn) -> Shape:
    if draw(st.booleans()):
        names = draw(
            st.lists(
                st.sampled_from(["red", "green", "blue", "with-dash", "UP"]),
                min_size=1,
                max_size=3,
                unique=True,
            )
        )
        kind: type[Enum] = Enum(
            _unique("Colour"), {f"M{i}": name for i, name in enumerate(names)}, type=str
        )
        near = st.sampled_from(["RED", "purple", "zz"]).filter(lambda value: value not in names)
        junk: tuple[JSON, ...] = (7, 1.5, [], {})
    else:
        numbers = draw(st.lists(st.integers(-3, 9), min_size=1, max_size=3, unique=True))
        kind = IntEnum(_unique("Level"), {f"M{i}": number for i, number in enumerate(numbers)})
        near = st.integers(-10, 20).filter(lambda value: value not in numbers)
        junk = (JUNK_TEXT, 1.5, [], {})
    values = [member.value for member in kind]
    return _with_junk(kind, st.sampled_from(values), [near], junk)


def _zones() -> st.SearchStrategy[timezone | None]:
    return st.one_of(
        st.none(),
        st.just(UTC),
        st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes))),
    )


def dates() -> st.SearchStrategy[Shape]:
    near = st.sampled_from(["2021-02-29", "2021-13-01", "2021-1-1", "21-01-01"])
    return st.just(
        _with_junk(date, st.dates().map(date.isoformat), [near], (JUNK_TEXT, 1.5, [], {}))
    )


def datetimes() -> st.SearchStrategy[Shape]:
    as_json = TypeAdapter(datetime).dump_python
    valid = st.datetimes(timezones=_zones()).map(lambda moment: as_json(moment, mode="json"))
    near = st.sampled_from(
        ["2021-02-29T10:00:00", "2021-01-01T24:00:01", "2021-01-01T10:00:00+25:00"]
    )
    # not a number: the worker reads one as a Unix time (a lax coercion)
    return st.just(_with_junk(datetime, valid, [near], (JUNK_TEXT, [], {})))


def uuids() -> st.SearchStrategy[Shape]:
    text = st.uuids().map(str)
    valid = st.one_of(text, text.map(str.upper))
    near = text.map(lambda value: value[:-1])
    from uuid import UUID

    return st.just(_with_junk(UUID, valid, [near], (JUNK_TEXT, 7, 1.5, [], {})))


def leaves() -> st.SearchStrategy[Shape]:
    return st.one_of(
        strings(),
        integers(),
        floats(),
        booleans(),
        literals(),
        enums(),
        dates(),
        datetimes(),
        uuids(),
    )


def nullable(inner: Shape) -> Shape:
    junk = tuple(value for value in inner.junk if value is not None)
    return Shape(
        Optional[inner.annotation],  # noqa: UP045 (a runtime annotation)
        st.one_of(st.none(), inner.valid),
        inner.invalid.filter(lambda value: value is not None),
        junk,
    )


@st.composite
def lists(draw: st.DrawFn, inner: Shape) -> Shape:
    low = draw(st.sampled_from([None, 0, 1, 2]))
    high = draw(st.sampled_from([None, 2, 4]))
    if low is not None and high is not None and high < low:
        low, high = high, low
    longest = high if high is not None else 4
    valid = st.lists(inner.valid, min_size=low or 0, max_size=longest)
    some = st.lists(inner.valid, min_size=max(low or 0, 1), max_size=max(longest, 1))
    near: list[st.SearchStrategy[JSON]] = [
        some.flatmap(lambda items: inner.invalid.map(lambda bad: [*items[1:], bad]))
    ]
    if low:
        near.append(st.lists(inner.valid, max_size=low - 1))
    if high is not None:
        near.append(st.lists(inner.valid, min_size=high + 1, max_size=high + 2))
    return _with_junk(
        Annotated[list[inner.annotation], Field(min_length=low, max_length=high)],
        valid,
        near,
        (JUNK_TEXT, 7, {}),
    )


def dicts(inner: Shape) -> Shape:
    keys = _text(max_size=5)
    valid = st.dictionaries(keys, inner.valid, max_size=3)
    near = st.tuples(valid, keys, inner.invalid).map(lambda parts: {**parts[0], parts[1]: parts[2]})
    return _with_junk(dict[str, inner.annotation], valid, [near], (JUNK_TEXT, 7, []))


def tuples(members: list[Shape]) -> Shape:
    valid = st.tuples(*(member.valid for member in members)).map(list)
    spoilt = st.tuples(valid, st.integers(0, len(members) - 1)).flatmap(
        lambda parts: members[parts[1]].invalid.map(
            lambda bad: [*parts[0][: parts[1]], bad, *parts[0][parts[1] + 1 :]]
        )
    )
    near = [
        spoilt,
        valid.map(lambda items: items[:-1]),
        st.tuples(valid, members[-1].valid).map(lambda parts: [*parts[0], parts[1]]),
    ]
    annotation = tuple[tuple(member.annotation for member in members)]
    return _with_junk(annotation, valid, near, (JUNK_TEXT, 7, {}))


def unions(members: list[Shape]) -> Shape:
    """``A | B``: a value of either; the wrong types are those neither takes."""
    junk = tuple(
        value
        for value in members[0].junk
        if all(_holds(value, member.junk) for member in members[1:])
    )
    return Shape(
        _union(members),
        st.one_of(*(member.valid for member in members)),
        st.sampled_from(junk) if junk else st.nothing(),
        junk,
    )


def _union(members: Sequence[Shape]) -> Any:
    return Union[tuple(member.annotation for member in members)]  # noqa: UP007 (built at run time)


def _holds(value: JSON, values: tuple[JSON, ...]) -> bool:
    return any(json.dumps(value) == json.dumps(other) for other in values)


ALIASES = ("camelName", "kebab-name", "class", "with space", "$dollar", "ünï")


@dataclass(frozen=True)
class Slot:
    """A field of a drawn model: its Python name, its name on the wire, its shape."""

    name: str
    wire: str
    shape: Shape
    required: bool


@st.composite
def models(draw: st.DrawFn, children: st.SearchStrategy[Shape], tag: str | None = None) -> Shape:
    """A model of 1 to 4 fields (plus ``kind: Literal[tag]`` first, when tagged)."""
    shapes = draw(st.lists(children, min_size=1, max_size=4))
    aliases = iter(draw(st.permutations(ALIASES)))
    slots: list[Slot] = []
    definitions: dict[str, Any] = {}
    if tag is not None:
        literal = _with_junk(Literal[tag], st.just(tag), [st.just("zz")], (7, [], {}))
        slots.append(Slot("kind", "kind", literal, True))
        definitions["kind"] = (Literal[tag], ...)
    for index, shape in enumerate(shapes):
        name = f"f{index}"
        wire = next(aliases) if draw(st.booleans()) else name
        required = draw(st.booleans())
        info = Field(alias=wire) if wire != name else Field()
        if not required:
            # a value of the type, or None even when the type lacks it (Pydantic allows that)
            default = draw(
                st.one_of(st.none(), shape.valid.map(TypeAdapter(shape.annotation).validate_python))
            )
            info = Field(default, alias=wire) if wire != name else Field(default)
        definitions[name] = (shape.annotation, info)
        slots.append(Slot(name, wire, shape, required))
    model = cast("type[BaseModel]", create_model(_unique("Model"), **definitions))

    valid = st.fixed_dictionaries(
        {slot.wire: slot.shape.valid for slot in slots if slot.required},
        optional={
            **{slot.wire: slot.shape.valid for slot in slots if not slot.required},
            "zz_extra": st.integers(),  # unknown keys are ignored
        },
    )
    near: list[st.SearchStrategy[JSON]] = []
    for slot in slots:
        near.append(
            valid.flatmap(
                lambda obj, slot=slot: slot.shape.invalid.map(lambda bad: {**obj, slot.wire: bad})
            )
        )
        if slot.required:
            near.append(
                valid.map(lambda obj, slot=slot: {k: v for k, v in obj.items() if k != slot.wire})
            )
            if slot.wire != slot.name:
                near.append(
                    valid.map(
                        lambda obj, slot=slot: {
                            **{k: v for k, v in obj.items() if k != slot.wire},
                            slot.name: obj[slot.wire],
                        }
                    )
                )
    return _with_junk(model, valid, near, (JUNK_TEXT, 7, []))


@st.composite
def tagged_unions(draw: st.DrawFn, children: st.SearchStrategy[Shape]) -> Shape:
    """``Annotated[A | B, Field(discriminator="kind")]``, ``kind`` a literal tag per model."""
    tags = draw(
        st.lists(
            st.sampled_from(["a", "b", "circle", "square"]), min_size=2, max_size=3, unique=True
        )
    )
    members = [draw(models(children, tag)) for tag in tags]
    annotation = Annotated[_union(members), Field(discriminator="kind")]
    valid = st.one_of(*(member.valid for member in members))
    near = [
        valid.map(lambda obj: {**obj, "kind": "zz"}),
        valid.map(lambda obj: {k: v for k, v in obj.items() if k != "kind"}),
        *(member.invalid.filter(lambda value: isinstance(value, dict)) for member in members),
    ]
    return _with_junk(annotation, valid, near, (JUNK_TEXT, 7, []))


def shapes() -> st.SearchStrategy[Shape]:
    def grow(children: st.SearchStrategy[Shape]) -> st.SearchStrategy[Shape]:
        return st.one_of(
            children.map(nullable),
            children.flatmap(lists),
            children.map(dicts),
            st.lists(children, min_size=1, max_size=3).map(tuples),
            st.lists(children, min_size=2, max_size=3).map(unions),
            models(children),
            tagged_unions(children),
        )

    return st.recursive(leaves(), grow, max_leaves=6)


# --- The property ------------------------------------------------------------------------------


def pydantic_accepts(model: type[BaseModel], value: JSON) -> tuple[bool, str]:
    try:
        model.model_validate_json(json.dumps(value))  # as the worker does (routes.py)
    except ValidationError as error:
        return False, str(error.errors()[0])
    return True, ""


def check(zod: ZodChecker, model: type[BaseModel], valid: list[JSON], invalid: list[JSON]) -> None:
    schema = payload_json_schema(model)  # as the contract has it
    source = zod_source(schema, model.__name__)
    values = [*valid, *invalid]
    zods = zod.verdicts(source, "S", values)
    for index, (value, (zod_ok, zod_issue)) in enumerate(zip(values, zods, strict=True)):
        expected = index < len(valid)
        ok, issue = pydantic_accepts(model, value)
        where = f"\nvalue: {json.dumps(value)}\nJSON Schema: {json.dumps(schema)}\nZod: {source}"
        assert ok == expected, (
            f"test generator: Pydantic {'rejects' if expected else 'accepts'} a value drawn as {'valid' if expected else 'invalid'} ({issue}){where}"
        )
        assert zod_ok == ok, (
            f"Pydantic {'accepts' if ok else 'rejects'} ({issue}), Zod {'accepts' if zod_ok else 'rejects'} ({zod_issue}){where}"
        )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_zod_agrees_with_pydantic(zod: ZodChecker, data: st.DataObject) -> None:
    model = data.draw(models(shapes()))
    valid = data.draw(st.lists(model.valid, min_size=1, max_size=15), label="valid")
    invalid = data.draw(st.lists(model.invalid, min_size=1, max_size=15), label="invalid")
    check(zod, model.annotation, valid, invalid)


def _one_field(annotation: Any) -> type[BaseModel]:
    return create_model(_unique("One"), x=(annotation, ...))


def _verdicts(zod: ZodChecker, annotation: Any, values: Sequence[JSON]) -> list[tuple[bool, bool]]:
    """(Pydantic's, Zod's) verdict on each value of a field ``x: annotation``."""
    model = _one_field(annotation)
    wrapped = [{"x": value} for value in values]
    source = zod_source(payload_json_schema(model), "One")
    zods = zod.verdicts(source, "S", wrapped)
    return [
        (pydantic_accepts(model, value)[0], ok)
        for value, (ok, _) in zip(wrapped, zods, strict=True)
    ]


def _label(annotation: Any) -> str:
    """A short test id: the schema Pydantic writes for ``annotation``."""
    return json.dumps(TypeAdapter(annotation).json_schema(), separators=(",", ":"))[:60]


EDGES: list[tuple[Any, list[JSON]]] = [
    # lengths count code points, as Python does: an emoji is one character, not two UTF-16 units
    (Annotated[str, Field(min_length=2, max_length=2)], ["😀😀", "😀", "😀😀😀", "e\u0301"]),
    # patterns: Rust regex semantics (Unicode classes, `$` only at the very end, search)
    (Annotated[str, Field(pattern=r"^\d+$")], ["123", "\u0663", "1\n", ""]),
    (Annotated[str, Field(pattern=r"^\w\s.$")], ["é\u2003😀", "a b", "a \n"]),
    (Annotated[str, Field(pattern=r"[0-9]")], ["abc1def", "abc"]),
    # bounds: the exclusive bound itself is out, the inclusive one in
    (Annotated[float, Field(gt=0, le=2.5)], [0, 5e-324, 2.5, 2.5000000000000004]),
    (Annotated[int, Field(ge=-3, lt=3, multiple_of=3)], [-3, 0, 3, -6, 1, 0.0, 2.0**53]),
    (
        Annotated[float, Field(multiple_of=0.1)],
        [0.30000000000000004, 0.7000000000000001, 12.3, 0.15],
    ),
    # the largest integers Node can send exactly
    (int, [2**53 - 1, -(2**53 - 1), 1e15]),
    # datetimes as Pydantic writes them: naive, Z, an offset; fractions of any length
    (
        datetime,
        ["2020-01-01T10:00:00", "2020-01-01T10:00:00Z", "2020-01-01T10:00:00.1234567-05:30"],
    ),
    (datetime, ["2020-02-30T10:00:00", "2020-01-01T10:00:00+24:00", "2020-01-01T24:00:00"]),
    (date, ["2020-02-29", "2021-02-29", "2020-1-1"]),
    # any UUID, not only RFC 4122 variants (Pydantic's UUID checks no version)
    (
        __import__("uuid").UUID,
        [
            "00000000-0000-0000-0000-000000000000",
            "e3e70682-c209-4cac-629f-6fbed82c07cd",
            "E3E70682-C209-4CAC-629F-6FBED82C07CD",
            "e3e70682-c209-4cac-629f-6fbed82c07c",
        ],
    ),
    (Optional[Literal["a", 1]], [None, "a", 1, 1.0, "1", "A"]),  # noqa: UP045
    (
        Annotated[list[int], Field(min_length=1, max_length=2)],
        [[], [1], [1, 2], [1, 2, 3], [1, "x"]],
    ),
    (tuple[int, str], [[1, "a"], [1], [1, "a", 2], ["a", 1]]),
    (tuple[int, ...], [[], [1, 2, 3], [1, None]]),
    (dict[str, bool], [{}, {"__proto__": True, "constructor": False}, {"a": None}]),
    # found by the property: Pydantic's float multiple_of allows 1e-9 of slack (Zod's is exact),
    # and Python's dates start at year 1 (Zod's ISO checks accept year 0)
    (Annotated[float, Field(multiple_of=0.1)], [1e-10, 123456789.1, 0.3, 0.35, -0.2]),
    (date, ["0000-01-01", "0001-01-01"]),
    (datetime, ["0000-01-01T00:00:00", "0001-01-01T00:00:00Z"]),
]


@pytest.mark.parametrize(("annotation", "values"), EDGES, ids=[_label(a) for a, _ in EDGES])
def test_edge_cases_agree(zod: ZodChecker, annotation: Any, values: list[JSON]) -> None:
    """Values at the edges of each construct, where the two validators could part."""
    verdicts = _verdicts(zod, annotation, values)
    assert [pydantic for pydantic, _ in verdicts] == [zod for _, zod in verdicts], values


def test_models_agree_on_aliases_defaults_extra_keys_and_tags(zod: ZodChecker) -> None:
    class Circle(BaseModel):
        kind: Literal["circle"]
        radius: Annotated[float, Field(gt=0)]

    class Square(BaseModel):
        kind: Literal["square"]
        side: int

    class Order(BaseModel):
        order_id: str = Field(alias="orderId")
        note: str | None = None
        count: int = 1
        shape: Annotated[Circle | Square, Field(discriminator="kind")]

    circle = {"kind": "circle", "radius": 1.5}
    valid = [
        {"orderId": "o1", "shape": circle},
        {"orderId": "o1", "note": None, "count": 2, "shape": {"kind": "square", "side": 2}},
        {"orderId": "o1", "shape": circle, "order_id": 5, "unknown": [1]},  # extra keys ignored
    ]
    invalid = [
        {"order_id": "o1", "shape": circle},  # the Python name, not the alias
        {"orderId": "o1", "count": None, "shape": circle},  # null for a defaulted int
        {"orderId": "o1", "shape": {"kind": "triangle", "radius": 1.5}},
        {"orderId": "o1", "shape": {"radius": 1.5}},
        {"orderId": "o1", "shape": {"kind": "square", "radius": 1.5}},
        {"orderId": "o1", "shape": {"kind": "circle", "radius": 0}},
    ]
    check(zod, Order, valid, invalid)


LAX: list[tuple[Any, JSON]] = [
    (int, "1"),
    (int, True),
    (float, "1.5"),
    (bool, 1),
    (bool, "yes"),
    (datetime, 1700000000),
    (datetime, "2020-01-01"),
    (datetime, "2020-01-01 10:00:00"),
    (datetime, "2020-01-01T10:00:00+0200"),
    (__import__("uuid").UUID, "e3e70682c2094cac629f6fbed82c07cd"),
    (Literal[1], True),
    (int, 2**53),  # Node cannot hold it exactly
]


@pytest.mark.parametrize(("annotation", "value"), LAX, ids=[f"{_label(a)}-{v!r}" for a, v in LAX])
def test_lax_coercions_are_the_worker_s_alone(
    zod: ZodChecker, annotation: Any, value: JSON
) -> None:
    """What the worker coerces, outside the contract's JSON Schema, Zod refuses: a Node
    producer is stricter than the worker (the safe way), so the property draws none of these."""
    assert _verdicts(zod, annotation, [value]) == [(True, False)]
