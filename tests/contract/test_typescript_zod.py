"""JSON Schema → Zod 4 (``contract/zod.py``): each construct Pydantic writes, what Zod makes of
it in Node, and the errors for what Zod cannot express."""

from __future__ import annotations

import datetime
import enum
import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from pydantic import AnyUrl, BaseModel, ConfigDict, Field, HttpUrl, Json, TypeAdapter, create_model
from pydantic.networks import IPvAnyNetwork

from bullmq_codegen.contract.loading import payload_json_schema
from bullmq_codegen.contract.patterns import PatternError, js_regex
from bullmq_codegen.contract.zod import ExportError, ZodNamespace, identifier, zod_schema
from bullmq_codegen.testing.node import node_typescript


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int = 9


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool


class Tree(BaseModel):
    value: int
    children: list[Tree] = []


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    a: int


class Loose(BaseModel):
    model_config = ConfigDict(extra="allow")
    a: int


def field_zod(annotation: Any, **field: Any) -> str:
    """The Zod of one field ``x`` of a model, as the converter writes it."""
    model = create_model("M", x=(annotation, Field(**field)))
    source = zod_schema(payload_json_schema(model), "M")
    line = next(
        line.strip() for line in source.splitlines() if line.strip().startswith(("x:", "get x"))
    )
    return line.removeprefix("x: ").removesuffix(",")


@pytest.mark.parametrize(
    ("annotation", "field", "expected"),
    [
        (int, {}, "z.int()"),
        (float, {}, "z.number()"),
        (bool, {}, "z.boolean()"),
        (str, {}, "z.string()"),
        (None, {}, "z.null()"),
        (Any, {}, "z.json()"),
        (int | None, {}, "z.int().nullable()"),
        (int | None, {"default": None}, "z.int().nullable().default(null)"),
        (str, {"default": "x"}, 'z.string().default("x")'),
        (int, {"default": None}, "z.int().optional()"),  # Pydantic fills None, unvalidated
        (list[int], {"default_factory": list}, "z.array(z.int()).optional()"),
        (list[int], {"default": [1]}, "z.array(z.int()).default(() => ([1]))"),
        (Literal["a"], {}, 'z.literal("a")'),
        (Literal[1, "a"], {}, 'z.literal([1, "a"])'),
        (Color, {}, "Color"),
        (int | str, {}, "z.union([z.int(), z.string()])"),
        (Cat | Dog, {"discriminator": "kind"}, 'z.discriminatedUnion("kind", [Cat, Dog])'),
        (list[str], {"min_length": 1, "max_length": 3}, "z.array(z.string()).min(1).max(3)"),
        (set[int], {}, "z.array(z.int())"),
        (tuple[int, str], {}, "z.tuple([z.int(), z.string()])"),
        (tuple[int, ...], {}, "z.array(z.int())"),
        (dict[str, float], {}, "z.record(z.string(), z.number())"),
        (dict[Literal["a", "b"], int], {}, 'z.partialRecord(z.enum(["a", "b"]), z.int())'),
        (
            datetime.datetime,
            {},
            'z.iso.datetime({ offset: true, local: true }).refine((s) => !s.startsWith("0000"), '
            '"Year 0 is not a date")',
        ),
        (
            datetime.date,
            {},
            'z.iso.date().refine((s) => !s.startsWith("0000"), "Year 0 is not a date")',
        ),
        (uuid.UUID, {}, "z.guid()"),
        (AnyUrl, {}, 'z.url().refine((s) => [...s].length >= 1, "Must have at least 1 character")'),
        (
            HttpUrl,  # only the schemes Pydantic allows (its JSON Schema leaves them out)
            {},
            "z.url({ protocol: /^(?:http|https)$/ })"
            '.refine((s) => [...s].length >= 1, "Must have at least 1 character")'
            '.refine((s) => [...s].length <= 2083, "Must have at most 2083 characters")',
        ),
        (int, {"ge": 1, "lt": 10, "multiple_of": 2}, "z.int().gte(1).lt(10).multipleOf(2)"),
        (float, {"gt": 0.5, "le": 1e3}, "z.number().lte(1000.0).gt(0.5)"),
        (
            str,
            {"max_length": 5, "pattern": r"^\d+$"},
            r'z.string().regex(/^\p{Nd}+$/u).refine((s) => [...s].length <= 5, "Must have at most 5 characters")',
        ),
        (Strict, {}, "Strict"),
        (Tree, {}, "Tree"),
    ],
)
def test_each_construct(annotation: Any, field: dict[str, Any], expected: str) -> None:
    assert field_zod(annotation, **field) == expected


def test_models_are_named_consts_in_dependency_order_and_shared() -> None:
    class Pet(BaseModel):
        """A pet."""

        cat: Cat
        color: Color

    class Owner(BaseModel):
        pet: Pet
        other: Cat | None = None

    namespace = ZodNamespace(reserved=["OwnerPayload"])
    assert namespace.add(Owner.model_json_schema(), "owner") == "Owner"
    assert namespace.add(Pet.model_json_schema(), "pet") == "Pet"  # the same model: shared
    assert namespace.add(TypeAdapter(list[Cat]).json_schema(), "cats") == "z.array(Cat)"
    declarations = namespace.declarations
    assert [d.name for d in declarations] == ["Cat", "Color", "Pet", "Owner"]
    assert declarations[2].description == "A pet."
    assert declarations[3].expression == (
        "z.object({\n  pet: Pet,\n  other: Cat.nullable().default(null),\n})"
    )
    # another model of a taken name (here a result's) gets the variant, then a number
    other_cat = {"title": "Cat", "type": "object", "properties": {"meows": {"type": "boolean"}}}
    assert namespace.add(other_cat, "result", variant="Result") == "CatResult"
    assert namespace.add({**other_cat, "required": ["meows"]}, "result", "Result") == "CatResult2"


def test_strict_loose_and_catchall_objects() -> None:
    assert "z.strictObject({" in zod_schema(Strict.model_json_schema(), "Strict")
    assert "z.looseObject({" in zod_schema(Loose.model_json_schema(), "Loose")
    schema = {
        "title": "M",
        "type": "object",
        "properties": {"a": {"type": "integer"}},
        "additionalProperties": {"type": "string"},
    }
    assert zod_schema(schema, "M").endswith("}).catchall(z.string());\n  return M;\n})()")


def test_recursive_models_recurse_through_getters_with_their_types() -> None:
    source = zod_schema(Tree.model_json_schema(), "Tree", typescript=True)
    assert "type TreeOutput = { value: number; children: Array<TreeOutput> };" in source
    assert "type TreeInput = { value: number; children?: Array<TreeInput> | undefined };" in source
    assert "const Tree: z.ZodType<TreeOutput, TreeInput> = z.object({" in source
    assert "get children() { return z.array(Tree).default(() => ([])); }," in source
    assert "type " not in zod_schema(Tree.model_json_schema(), "Tree")  # JavaScript: no types


def test_names_are_identifiers() -> None:
    assert identifier("Page[int]") == "Page_int_"
    assert identifier("1st") == "_1st"
    assert identifier("default") == "default_"
    assert identifier("Record") == "Record_"  # the generated types use the global


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"^\d+$", r"/^\p{Nd}+$/u"),
        (
            r"^\w\s\S$",
            r"/^[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]\p{White_Space}\P{White_Space}$/u",
        ),
        (r"a.b", r"/a[^\n]b/u"),
        (r"(?s)a.b", r"/a[\s\S]b/u"),
        (r"(?i)^ab$", r"/^ab$/iu"),
        (r"(?m)^a$", r"/(?<![^\n])a(?![^\n])/u"),
        (r"(?P<year>\d{4})-", r"/(?<year>\p{Nd}{4})-/u"),
        (r"[[:alpha:]_-]+", r"/[A-Za-z_-]+/u"),
        (r"a/b\-c\#", r"/a\/b-c#/u"),
        (r"\x{1F600}\u00e9", r"/\u{1F600}\u{E9}/u"),
        (r"\pL\p{Greek}", None),
        (r"\p{Script=Greek}+", r"/\p{Script=Greek}+/u"),
        (r"\Aab\z", r"/^ab$/u"),
        (r"(?i:a)", None),
        (r"[a&&b]", None),
        (r"\1", None),
    ],
)
def test_patterns_keep_rust_semantics_in_javascript(pattern: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(PatternError, match="has no JavaScript equivalent"):
            js_regex(pattern)
    else:
        assert js_regex(pattern) == expected


@pytest.mark.parametrize(
    ("annotation", "message"),
    [
        (
            Json[int],
            r"cannot export M to Zod: M\.x: the keywords 'contentMediaType', 'contentSchema'",
        ),
        (IPvAnyNetwork, r"M\.x: the string format 'ipvanynetwork' \(exported formats: "),
        (
            Annotated[str, Field(pattern=r"(?i:x)")],
            r"M\.x: the pattern: the group '\(\?i:' \(at offset 1 .*\) has no JavaScript equivalent",
        ),
        (
            list[Annotated[str, Field(json_schema_extra={"not": {"const": ""}})]],
            r"M\.x\[\]: the keyword 'not' \(not expressible in Zod here\)",
        ),
        (dict[str, Json[int]], r"M\.x\{\}: the keywords 'contentMediaType'"),
    ],
)
def test_what_zod_cannot_express_is_an_error_naming_the_model_and_field(
    annotation: Any, message: str
) -> None:
    model = create_model("M", x=(annotation, ...))
    with pytest.raises(ExportError, match=message):
        zod_schema(model.model_json_schema(by_alias=True), "M")


def test_a_nested_model_s_field_is_named_by_its_model() -> None:
    class Inner(BaseModel):
        net: IPvAnyNetwork

    class Outer(BaseModel):
        inner: list[Inner]

    with pytest.raises(ExportError, match=r"cannot export the payload to Zod: Inner\.net: "):
        zod_schema(Outer.model_json_schema(), "the payload")


# -- what Zod does with them, in Node -------------------------------------------------------------

SEMANTICS: list[tuple[Any, list[Any], list[Any]]] = [
    # annotation, values Zod (like Pydantic) accepts, values it rejects
    (Annotated[str, Field(max_length=2)], ["😀😀", "ab"], ["abc", "😀😀😀"]),  # code points
    (Annotated[str, Field(min_length=2)], ["😀😀"], ["😀"]),
    (Annotated[str, Field(pattern=r"^\d+$")], ["123", "١٢٣"], ["12a", ""]),  # Unicode digits
    (Annotated[str, Field(pattern=r"^a.$")], ["ab", "a\r"], ["a\n", "a"]),  # . is not \n
    (Annotated[str, Field(pattern=r"b")], ["abc"], ["ac"]),  # a search, not a full match
    (int, [0, -5, 2**53 - 1], [1.5, None, "x"]),
    (Annotated[int, Field(ge=1, lt=10, multiple_of=3)], [3, 9], [0, 10, 4]),
    (
        datetime.datetime,
        ["2024-05-01T10:00:00Z", "2024-05-01T10:00:00.123+02:00", "2024-05-01T10:00:00"],
        ["yesterday", "2024-05-01T25:00:00"],
    ),
    (datetime.date, ["2024-05-01"], ["2024-13-01", "2024-5-1"]),
    (
        datetime.time,
        ["10:30:00", "10:30:00.5+01:00", "12:00", "12:00:00Z", "12:00:00+0200", "23:59:59"],
        ["25h", "25:99", "24:00", "23:59:60", "12:60", "12:00:00+24:00"],  # as Pydantic refuses
    ),
    (datetime.timedelta, ["P1DT2H", "PT0.5S", "-P1D"], ["soon", "P"]),
    (HttpUrl, ["http://a.example", "https://b.example/x?y=1"], ["ftp://a.example", "mailto:x@y.z"]),
    (
        uuid.UUID,
        ["00000000-0000-0000-0000-000000000000", "A1B2C3D4-0000-1000-8000-000000000000"],
        ["not-a-uuid"],
    ),
    (Literal["a", "b"], ["a"], ["c"]),
    (Color, ["red"], ["RED"]),
    (tuple[int, str], [[1, "a"]], [[1], [1, "a", 2], ["a", 1]]),
    (dict[Literal["a", "b"], int], [{}, {"a": 1}], [{"c": 1}, {"a": "x"}]),
    (
        Cat | Dog,
        [{"kind": "cat"}, {"kind": "dog", "good": True}],
        [{"kind": "cow"}, {"kind": "dog"}],
    ),
    (Strict, [{"a": 1}], [{"a": 1, "b": 2}]),
    (Tree, [{"value": 1, "children": [{"value": 2}]}], [{"value": 1, "children": [{}]}]),
    (int | None, [None, 1], ["x"]),
]


@pytest.fixture(scope="module")
def zod_modules() -> Path:
    modules = node_typescript()
    if modules is None:
        pytest.skip("Node.js and npm (and the npm registry) are needed to run Zod")
    return modules


def test_zod_accepts_and_rejects_as_pydantic_does(zod_modules: Path) -> None:
    cases: list[dict[str, Any]] = []
    for annotation, accepted, rejected in SEMANTICS:
        model = create_model("M", x=(annotation, ...))
        for value in [*accepted, *rejected]:  # the table is Pydantic's verdict
            verdict = _pydantic_accepts(model, value)
            assert verdict == (value in accepted), f"Pydantic on {annotation}: {value!r}"
        cases.append(
            {
                "source": zod_schema(payload_json_schema(model), "M"),
                "values": [{"x": value} for value in [*accepted, *rejected]],
            }
        )
    program = """
const { z } = require("zod");
const cases = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
console.log(JSON.stringify(cases.map(({ source, values }) => {
  const schema = new Function("z", `return ${source};`)(z);
  return values.map((value) => schema.safeParse(value).success);
})));
"""
    completed = subprocess.run(
        ["node", "-e", program],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        env={**os.environ, "NODE_PATH": str(zod_modules)},
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    verdicts = json.loads(completed.stdout)
    for (annotation, accepted, rejected), got in zip(SEMANTICS, verdicts, strict=True):
        expected = [True] * len(accepted) + [False] * len(rejected)
        assert got == expected, f"{annotation}: {[*accepted, *rejected]}"


def _pydantic_accepts(model: type[BaseModel], value: Any) -> bool:
    try:
        model.model_validate_json(json.dumps({"x": value}))
    except ValueError:
        return False
    return True
