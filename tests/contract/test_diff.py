"""``diff``: a table of contract changes, each labelled breaking or safe, from real Pydantic models.

Each row is an old and a new model (payload: validation-mode JSON Schema by alias,
as the contract holds it; result: serialization mode) and the exact changes
expected: (BREAKING or SAFE, path, words of the message). A row whose change
must be invisible on the wire (a Python name under an unchanged alias) expects none.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any, ForwardRef, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, WithJsonSchema, create_model

from bullmq_codegen.contract import Contract, JobContract
from bullmq_codegen.contract.diff import Change, diff_contracts

B, S = "BREAKING", "SAFE"


def model(
    name: str = "Payload", config: ConfigDict | None = None, **fields: Any
) -> type[BaseModel]:
    """A model ``name`` with ``fields`` (``(type, default-or-Field)``, ``...`` for required)."""
    created: type[BaseModel] = create_model(name, __config__=config, **fields)
    return created


def job(
    payload: type[BaseModel] | None = None,
    result: object = None,
    *,
    queue: str = "orders",
    name: str = "placeOrder",
    moved_from: str | None = None,
) -> JobContract:
    """The contract of one job, its schemas built as ``build_contract`` builds them."""
    return JobContract(
        queue=queue,
        name=name,
        payload=None
        if payload is None
        else payload.model_json_schema(by_alias=True, mode="validation"),
        payload_model=None if payload is None else payload.__name__,
        result=TypeAdapter(result).json_schema(by_alias=True, mode="serialization"),
        result_type=getattr(result, "__name__", repr(result)),
        moved_from=moved_from,
    )


def contract(*jobs: JobContract, prefix: str = "bull") -> Contract:
    return Contract(source="defs:queue_config", prefix=prefix, jobs=jobs)


def changes(old: Contract, new: Contract) -> list[tuple[str, str, str, str]]:
    return [
        ("BREAKING" if c.breaking else "SAFE", c.job, c.path, c.what)
        for c in diff_contracts(old, new).changes
    ]


def assert_changes(
    found: list[tuple[str, str, str, str]], expected: list[tuple[str, str, str]]
) -> None:
    """``found`` is exactly ``expected``: same labels and paths, each message holding its words."""
    assert [(label, path) for label, _, path, _ in found] == [
        (label, path) for label, path, _ in expected
    ], found
    for (_, _, _, what), (_, _, words) in zip(found, expected, strict=True):
        assert words in what, (what, words)


# -- models the rows share -------------------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class ColorPlus(enum.Enum):  # Color with one more value, under the same $defs name
    RED = "red"
    BLUE = "blue"
    GREEN = "green"


ColorPlus.__name__ = "Color"

ColorLess = enum.Enum("Color", {"RED": "red"})  # type: ignore[misc]


def item(sku: Any) -> type[BaseModel]:
    return model("Item", sku=(sku, ...))


def cat(**fields: Any) -> type[BaseModel]:
    return model("Cat", kind=(Literal["cat"], ...), **fields)


def dog() -> type[BaseModel]:
    return model("Dog", kind=(Literal["dog"], ...), bark=(str, ...))


def pet(*members: type[BaseModel]) -> Any:
    union: Any = members[0] if len(members) == 1 else members[0] | members[1]
    return Annotated[union, Field(discriminator="kind")]


def tree(label: Any) -> type[BaseModel]:
    """A recursive model: ``Node(label, children: list[Node])``."""
    return model("Node", label=(label, ...), children=(list[ForwardRef("Node")], []))


NotThree = Annotated[int, WithJsonSchema({"type": "integer", "not": {"const": 3}})]

FORBID = ConfigDict(extra="forbid")

# fmt: off
# -- the payload table ---------------------------------------------------------------------------

PAYLOAD: list[Any] = [
    # fields added and removed
    ("optional field added",
     model(a=(int, ...)),
     model(a=(int, ...), b=(str, "x")),
     [(S, "payload.b", 'optional field added (default "x")')]),
    ("optional nullable field added",
     model(a=(int, ...)),
     model(a=(int, ...), b=(str | None, None)),
     [(S, "payload.b", "optional field added (default none)")]),
    ("required field added",
     model(a=(int, ...)),
     model(a=(int, ...), b=(str, ...)),
     [(B, "payload.b", "required field added")]),
    ("field removed, extras ignored",
     model(a=(int, ...), b=(str, ...)),
     model(a=(int, ...)),
     [(S, "payload.b", "field removed")]),
    ("field removed, extras forbidden",
     model(a=(int, ...), b=(str, ...)),
     model("Payload", FORBID, a=(int, ...)),
     [(B, "payload.b", "field removed"), (B, "payload", "extra fields ignored → forbidden")]),
    ("field removed from a forbidding model",
     model("Payload", FORBID, a=(int, ...), b=(str, ...)),
     model("Payload", FORBID, a=(int, ...)),
     [(B, "payload.b", "field removed")]),
    ("extras forbidden",
     model(a=(int, ...)),
     model("Payload", FORBID, a=(int, ...)),
     [(B, "payload", "extra fields ignored → forbidden")]),
    ("extras allowed again",
     model("Payload", FORBID, a=(int, ...)),
     model(a=(int, ...)),
     [(S, "payload", "extra fields forbidden → ignored")]),
    # aliases: the wire name is the alias
    ("alias renamed",
     model(order_id=(int, Field(alias="orderId"))),
     model(order_id=(int, Field(alias="order"))),
     [(S, "payload.orderId", "field removed (renamed to 'order'?)"), (B, "payload.order", "required field added (renamed from 'orderId'?)")]),
    ("Python name changed, alias kept",
     model(order_id=(int, Field(alias="orderId"))),
     model(oid=(int, Field(alias="orderId"))),
     []),
    ("alias added to a field (its wire name changes)",
     model(order_id=(int, ...)),
     model(order_id=(int, Field(alias="orderId"))),
     [(S, "payload.order_id", "field removed (renamed to 'orderId'?)"), (B, "payload.orderId", "required field added (renamed from 'order_id'?)")]),
    # defaults, None vs missing
    ("default added to a required field",
     model(a=(str, ...)),
     model(a=(str, "post")),
     [(S, "payload.a", 'made optional (default "post")')]),
    ("default removed",
     model(a=(str, "post")),
     model(a=(str, ...)),
     [(B, "payload.a", 'made required (default "post" removed)')]),
    ("default changed",
     model(a=(str, "post")),
     model(a=(str, "dhl")),
     [(S, "payload.a", 'default changed "post" → "dhl"')]),
    ("made nullable (None now accepted)",
     model(a=(str, ...)),
     model(a=(str | None, ...)),
     [(S, "payload.a", "made nullable")]),
    ("no longer nullable",
     model(a=(str | None, ...)),
     model(a=(str, ...)),
     [(B, "payload.a", "no longer nullable")]),
    ("nullable required → optional (missing now means None)",
     model(a=(str | None, ...)),
     model(a=(str | None, None)),
     [(S, "payload.a", "made optional (default none)")]),
    ("optional → required nullable (missing no longer accepted)",
     model(a=(str | None, None)),
     model(a=(str | None, ...)),
     [(B, "payload.a", "made required (default none removed)")]),
    ("optional None default → required non-null",
     model(a=(int | None, None)),
     model(a=(int, ...)),
     [(B, "payload.a", "made required"), (B, "payload.a", "no longer nullable")]),
    # types
    ("number narrowed to integer",
     model(a=(float, ...)),
     model(a=(int, ...)),
     [(B, "payload.a", "type narrowed number → integer")]),
    ("integer widened to number",
     model(a=(int, ...)),
     model(a=(float, ...)),
     [(S, "payload.a", "type widened integer → number")]),
    ("string → integer",
     model(a=(str, ...)),
     model(a=(int, ...)),
     [(B, "payload.a", "type changed string → integer")]),
    ("union member removed",
     model(a=(int | str, ...)),
     model(a=(int, ...)),
     [(B, "payload.a", "type string no longer accepted")]),
    ("union member added",
     model(a=(int, ...)),
     model(a=(int | str, ...)),
     [(S, "payload.a", "type string now accepted")]),
    ("string → datetime (format added)",
     model(a=(str, ...)),
     model(a=(datetime, ...)),
     [(B, "payload.a", 'format "date-time" added')]),
    ("datetime → string (format removed)",
     model(a=(datetime, ...)),
     model(a=(str, ...)),
     [(S, "payload.a", 'format "date-time" removed')]),
    ("any → integer",
     model(a=(Any, ...)),
     model(a=(int, ...)),
     [(B, "payload.a", "type narrowed any → integer")]),
    # enums and literals
    ("string → Literal",
     model(a=(str, ...)),
     model(a=(Literal["x", "y"], ...)),
     [(B, "payload.a", 'type narrowed string → enum ["x", "y"]')]),
    ("Literal → string",
     model(a=(Literal["x", "y"], ...)),
     model(a=(str, ...)),
     [(S, "payload.a", 'type widened enum ["x", "y"] → string')]),
    ("Literal value removed",
     model(a=(Literal["x", "y"], ...)),
     model(a=(Literal["x"], ...)),
     [(B, "payload.a", 'enum value ["y"] removed')]),
    ("enum value removed (Enum class via $ref)",
     model(a=(Color, ...)),
     model(a=(ColorLess, ...)),
     [(B, "payload.a", 'enum value ["blue"] removed')]),
    ("enum value added (Enum class via $ref)",
     model(a=(Color, ...)),
     model(a=(ColorPlus, ...)),
     [(S, "payload.a", 'enum value ["green"] added')]),
    ("Literal value still matched by the new pattern",
     model(a=(Literal["ab"], ...)),
     model(a=(Annotated[str, Field(pattern="^a")], ...)),
     [(S, "payload.a", 'type widened enum ["ab"] → string')]),
    # constraints
    ("maxLength lowered",
     model(a=(Annotated[str, Field(max_length=10)], ...)),
     model(a=(Annotated[str, Field(max_length=5)], ...)),
     [(B, "payload.a", "maxLength 10 → 5")]),
    ("maxLength raised",
     model(a=(Annotated[str, Field(max_length=5)], ...)),
     model(a=(Annotated[str, Field(max_length=10)], ...)),
     [(S, "payload.a", "maxLength 5 → 10")]),
    ("minLength added",
     model(a=(str, ...)),
     model(a=(Annotated[str, Field(min_length=1)], ...)),
     [(B, "payload.a", "minLength none → 1")]),
    ("minimum raised",
     model(a=(Annotated[int, Field(ge=1)], ...)),
     model(a=(Annotated[int, Field(ge=2)], ...)),
     [(B, "payload.a", "minimum >= 1 → >= 2")]),
    ("ge → gt at the same value",
     model(a=(Annotated[int, Field(ge=1)], ...)),
     model(a=(Annotated[int, Field(gt=1)], ...)),
     [(B, "payload.a", "minimum >= 1 → > 1")]),
    ("maximum removed",
     model(a=(Annotated[int, Field(le=9)], ...)),
     model(a=(int, ...)),
     [(S, "payload.a", "maximum <= 9 → none")]),
    ("pattern changed",
     model(a=(Annotated[str, Field(pattern="^a")], ...)),
     model(a=(Annotated[str, Field(pattern="^b")], ...)),
     [(B, "payload.a", 'pattern changed "^a" → "^b"')]),
    ("pattern removed",
     model(a=(Annotated[str, Field(pattern="^a")], ...)),
     model(a=(str, ...)),
     [(S, "payload.a", 'pattern "^a" removed')]),
    ("multipleOf loosened",
     model(a=(Annotated[int, Field(multiple_of=4)], ...)),
     model(a=(Annotated[int, Field(multiple_of=2)], ...)),
     [(S, "payload.a", "multipleOf 4 → 2")]),
    ("list minItems added",
     model(a=(list[int], ...)),
     model(a=(Annotated[list[int], Field(min_length=1)], ...)),
     [(B, "payload.a", "minItems none → 1")]),
    # nested models ($ref), lists, dicts, tuples, unions of models, recursion
    ("nested list item type narrowed",
     model(items=(list[item(str)], ...)),
     model(items=(list[item(int)], ...)),
     [(B, "payload.items[].sku", "type changed string → integer")]),
    ("nested optional field added",
     model(address=(model("Address", city=(str, ...)), ...)),
     model(address=(model("Address", city=(str, ...), zip=(str | None, None)), ...)),
     [(S, "payload.address.zip", "optional field added")]),
    ("list items changed",
     model(tags=(list[int], ...)),
     model(tags=(list[str], ...)),
     [(B, "payload.tags[]", "type changed integer → string")]),
    ("dict values widened",
     model(scores=(dict[str, int], ...)),
     model(scores=(dict[str, float], ...)),
     [(S, "payload.scores{}", "type widened integer → number")]),
    ("tuple position changed",
     model(pair=(tuple[int, str], ...)),
     model(pair=(tuple[int, int], ...)),
     [(B, "payload.pair[1]", "type changed string → integer")]),
    ("discriminated union member removed",
     model(pet=(pet(cat(), dog()), ...)),
     model(pet=(pet(cat()), ...)),
     [(B, "payload.pet", "union member Dog removed")]),
    ("discriminated union member added",
     model(pet=(pet(cat()), ...)),
     model(pet=(pet(cat(), dog()), ...)),
     [(S, "payload.pet", "union member Dog added")]),
    ("field of a union member made required",
     model(pet=(pet(cat(lives=(int, 9)), dog()), ...)),
     model(pet=(pet(cat(lives=(int, ...)), dog()), ...)),
     [(B, "payload.pet(Cat).lives", "made required (default 9 removed)")]),
    ("recursive model changed (compared once)",
     tree(str),
     tree(int),
     [(B, "payload.label", "type changed string → integer")]),
    ("recursive model unchanged",
     tree(str),
     tree(str),
     []),
    # what the diff cannot compare
    ("unknown keyword",
     model(a=(int, ...)),
     model(a=(NotThree, ...)),
     [(B, "payload.a", "unknown change (review by hand): keyword 'not' changed")]),
]

RESULT: list[Any] = [
    ("result field added",
     model("Receipt", a=(int, ...)),
     model("Receipt", a=(int, ...), b=(int, ...)),
     [(S, "result.b", "field added")]),
    ("result field added, old readers forbid extras",
     model("Receipt", FORBID, a=(int, ...)),
     model("Receipt", FORBID, a=(int, ...), b=(int, ...)),
     [(B, "result.b", "field added")]),
    ("result field removed",
     model("Receipt", a=(int, ...), b=(int, ...)),
     model("Receipt", a=(int, ...)),
     [(B, "result.b", "field removed")]),
    ("result field with a default removed (old readers default it)",
     model("Receipt", a=(int, ...), b=(int, 0)),
     model("Receipt", a=(int, ...)),
     [(S, "result.b", "field removed")]),
    ("result field given a default (still always stored)",
     model("Receipt", a=(int, ...)),
     model("Receipt", a=(int, 0)),
     [(S, "result.a", "made optional (default 0)")]),
    ("result made nullable",
     model("Receipt", a=(int, ...)),
     model("Receipt", a=(int | None, ...)),
     [(B, "result.a", "made nullable")]),
    ("result no longer nullable",
     model("Receipt", a=(int | None, ...)),
     model("Receipt", a=(int, ...)),
     [(S, "result.a", "no longer nullable")]),
    ("result type narrowed",
     model("Receipt", a=(float, ...)),
     model("Receipt", a=(int, ...)),
     [(S, "result.a", "type narrowed number → integer")]),
    ("result type widened",
     model("Receipt", a=(int, ...)),
     model("Receipt", a=(float, ...)),
     [(B, "result.a", "type widened integer → number")]),
    ("result enum value added",
     model("Receipt", a=(Color, ...)),
     model("Receipt", a=(ColorPlus, ...)),
     [(B, "result.a", 'enum value ["green"] added')]),
    ("result enum value removed",
     model("Receipt", a=(Color, ...)),
     model("Receipt", a=(ColorLess, ...)),
     [(S, "result.a", 'enum value ["blue"] removed')]),
    ("result constraint loosened",
     model("Receipt", a=(Annotated[str, Field(max_length=5)], ...)),
     model("Receipt", a=(str, ...)),
     [(B, "result.a", "maxLength 5 → none")]),
    ("None result becomes a model",
     None,
     model("Receipt", a=(int, ...)),
     [(B, "result", "type changed null → Receipt")]),
    ("int result becomes a list",
     int,
     list[int],
     [(B, "result", "type changed integer → array")]),
]

# fmt: on


@pytest.mark.parametrize(
    ("label", "old", "new", "expected"), PAYLOAD, ids=[row[0] for row in PAYLOAD]
)
def test_payload_changes(
    label: str, old: type[BaseModel], new: type[BaseModel], expected: list[tuple[str, str, str]]
) -> None:
    found = changes(contract(job(old, int)), contract(job(new, int)))
    assert_changes(found, expected)
    assert all(row[1] == "orders/placeOrder" for row in found)


@pytest.mark.parametrize(
    ("label", "old", "new", "expected"), RESULT, ids=[row[0] for row in RESULT]
)
def test_result_changes(
    label: str, old: object, new: object, expected: list[tuple[str, str, str]]
) -> None:
    payload = model(a=(int, ...))
    assert_changes(changes(contract(job(payload, old)), contract(job(payload, new))), expected)


def test_every_breaking_change_says_why_in_words_of_jobs_or_readers() -> None:
    old = contract(job(model(a=(str, ...), b=(int, 1)), model("Receipt", x=(int, ...))))
    new = contract(job(model(a=(int, ...), b=(int, ...)), model("Receipt", x=(int | None, ...))))
    lines = [change.line() for change in diff_contracts(old, new).changes]
    assert lines == [
        "BREAKING orders/placeOrder payload.a: type changed string → integer: "
        "jobs already waiting may carry string",
        "BREAKING orders/placeOrder payload.b: made required (default 1 removed): "
        "jobs already waiting may lack it",
        "BREAKING orders/placeOrder result.x: made nullable: "
        "readers not yet redeployed do not expect null",
    ]


def test_jobs_removed_moved_added() -> None:
    payload = model(a=(int, ...))
    old = contract(
        job(payload, name="placeOrder"),
        job(payload, name="sendEmail", queue="default"),
        job(payload, name="resize", queue="default"),
        job(payload, name="audit", queue="legacy"),
        job(payload, name="ship", queue="default"),
    )
    new = contract(
        job(payload, name="placeOrder"),
        job(payload, name="sendEmail", queue="emails", moved_from="default"),
        job(payload, name="resize", queue="default"),
        job(model(a=(str, ...)), name="ship", queue="shipping"),  # moved without movedFrom
        job(payload, name="refund"),
    )
    found = diff_contracts(old, new)
    assert [c.line() for c in found.changes] == [
        "SAFE emails/sendEmail: moved from queue 'default', drained via movedFrom: "
        "the workers of 'default' keep running the jobs left there",
        "BREAKING legacy/audit: job removed or renamed (queue 'legacy' too): jobs already "
        "waiting, and those producers not yet redeployed add, are never processed",
        "BREAKING default/ship: moved to queue 'shipping' without movedFrom: jobs waiting in "
        "'default', and those producers not yet redeployed add there, are never processed: "
        "declare movedFrom: 'default'",
        "BREAKING shipping/ship payload.a: type changed integer → string: "
        "jobs already waiting may carry integer",
        "SAFE orders/refund: job added: nothing waits for it yet",
    ]
    assert found.summary() == "3 breaking changes, 2 safe changes (5 jobs)"
    removed = diff_contracts(contract(job(payload), job(payload, name="x")), contract(job(payload)))
    assert [c.line() for c in removed.changes] == [
        "BREAKING orders/x: job removed or renamed: jobs already waiting, and those producers not "
        "yet redeployed add, fail: the worker of 'orders' has no processor for 'x'"
    ]


def test_payload_schema_added_removed_prefix_and_movedfrom_removed() -> None:
    old = contract(job(None), job(model(a=(int, ...)), name="b", moved_from="default"))
    new = contract(job(model(a=(int, ...))), job(None, name="b"), prefix="shop")
    assert [(c.breaking, c.job, c.path, c.what) for c in diff_contracts(old, new).changes] == [
        (True, "*", "prefix", "key prefix changed 'bull' → 'shop'"),
        (
            True,
            "orders/placeOrder",
            "payload",
            "payload schema Payload added (payloads were not validated)",
        ),
        (False, "orders/b", "", "movedFrom 'default' removed"),
        (False, "orders/b", "payload", "payload schema Payload removed"),
    ]


def test_unchanged_contract() -> None:
    same = contract(job(model(items=(list[item(str)], ...)), model("Receipt", a=(Color, ...))))
    found = diff_contracts(same, same)
    assert (found.changes, found.summary()) == ((), "no changes to the contract")
    assert Change("a/b", "", False, "x", "y").to_json() == {
        "job": "a/b",
        "path": "",
        "breaking": False,
        "what": "x",
        "why": "y",
    }
