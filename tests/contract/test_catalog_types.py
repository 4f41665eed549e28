"""The catalog's fields, types and options, from real Pydantic models' schemas."""

from __future__ import annotations

import datetime
import enum
import uuid
from dataclasses import replace
from typing import Annotated, Any, Literal, TypeAlias

import pytest
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model

from bullmq_codegen.contract import Contract, JobContract, ScheduleContract
from bullmq_codegen.contract.catalog import render_catalog
from bullmq_codegen.deploy.settings import DeploySettings


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class OrderItem(BaseModel):
    """One line of an order."""

    sku: str = Field(min_length=1, max_length=20, description="Stock unit")
    quantity: int = Field(ge=1)


class Cat(BaseModel):
    kind: Literal["cat"]


class Dog(BaseModel):
    kind: Literal["dog"]
    bark: float = Field(gt=0, multiple_of=0.5)


class Node(BaseModel):
    children: list[Node] = []


ShortOrNull: TypeAlias = Annotated[str, Field(max_length=5)] | None


def job(
    payload: type[BaseModel] | None, result: Any = None, result_type: str = "", **extra: Any
) -> JobContract:
    """A job as the contract describes it: the payload as validated, the result as stored."""
    return JobContract(
        queue="shop",
        name="place",
        payload=None if payload is None else payload.model_json_schema(by_alias=True),
        payload_model=None if payload is None else payload.__name__,
        result=TypeAdapter(result).json_schema(by_alias=True, mode="serialization"),
        result_type=result_type or getattr(result, "__name__", "None"),
        processor="shop.jobs.place",
        **extra,
    )


def catalog(*jobs: JobContract) -> list[str]:
    contract = Contract(source="shop.jobs:queue_config", prefix="bull", jobs=jobs)
    return render_catalog(contract, DeploySettings(name="shop")).splitlines()


def field_row(annotation: Any, default: Any = ...) -> str:
    """The catalog's row of a model's one field ``f``."""
    model = create_model("Payload", f=(annotation, default))
    return next(line for line in catalog(job(model)) if line.startswith("| `f` |"))


FIELDS: list[tuple[Any, Any, str]] = [
    (int, ..., "| `f` | `integer` | yes |  |  |"),
    (Annotated[int, Field(ge=1)], ..., "| `f` | `integer` | yes | ≥ 1 |  |"),
    (
        Annotated[float, Field(gt=0, le=5, multiple_of=0.5)],
        ...,
        "| `f` | `number` | yes | > 0, ≤ 5, multiple of 0.5 |  |",
    ),
    (
        Annotated[str, Field(min_length=2, max_length=8)],
        ...,
        "| `f` | `string` | yes | length ≥ 2, length ≤ 8 |  |",
    ),
    # a pipe in a pattern is escaped, so the table keeps its columns
    (
        Annotated[str, Field(pattern="^a|b$")],
        ...,
        "| `f` | `string` | yes | pattern `^a\\|b$` |  |",
    ),
    (Literal["a", "b"], ..., '| `f` | `"a" \\| "b"` | yes |  |  |'),
    (Literal[3], ..., "| `f` | `3` | yes |  |  |"),
    (Color, Color.RED, '| `f` | `Color` | no, default `"red"` |  |  |'),
    (list[OrderItem], ..., "| `f` | `list[OrderItem]` | yes |  |  |"),
    (
        list[Annotated[int, Field(ge=0)]],
        Field(default_factory=list, min_length=1),
        "| `f` | `list[integer (≥ 0)]` | no | items ≥ 1 |  |",
    ),
    (set[str], ..., "| `f` | `set[string]` | yes |  |  |"),
    (tuple[int, str], ..., "| `f` | `tuple[integer, string]` | yes |  |  |"),
    (dict[str, int], ..., "| `f` | `dict[string, integer]` | yes |  |  |"),
    (dict[str, Any], ..., "| `f` | `dict[string, any]` | yes |  |  |"),
    (Any, None, "| `f` | `any` | no, default `null` |  |  |"),
    (datetime.datetime, ..., "| `f` | `string (date-time)` | yes |  |  |"),
    (datetime.date, ..., "| `f` | `string (date)` | yes |  |  |"),
    (uuid.UUID, ..., "| `f` | `string (uuid)` | yes |  |  |"),
    # pydantic's EmailStr needs the email-validator package; its schema is this format
    (
        Annotated[str, Field(json_schema_extra={"format": "email"})],
        ...,
        "| `f` | `string (email)` | yes |  |  |",
    ),
    # nullable (must be sent, may be null) vs optional (may be left out) vs defaulted
    (str | None, ..., "| `f` | `string \\| null` | yes |  |  |"),
    (str | None, None, "| `f` | `string \\| null` | no, default `null` |  |  |"),
    (str, "post", '| `f` | `string` | no, default `"post"` |  |  |'),
    (str, Field(default_factory=str), "| `f` | `string` | no |  |  |"),
    (
        ShortOrNull,
        None,
        "| `f` | `string \\| null` | no, default `null` | length ≤ 5 |  |",
    ),
    (Cat | Dog, ..., "| `f` | `Cat \\| Dog` | yes |  |  |"),
    (
        Annotated[Cat | Dog, Field(discriminator="kind")],
        ...,
        "| `f` | `Cat \\| Dog` | yes | tagged by `kind` |  |",
    ),
    (
        int,
        Field(description="How many,\n  at most"),
        "| `f` | `integer` | yes |  | How many, at most |",
    ),
    (int, Field(0, deprecated=True), "| `f` | `integer` | no, default `0` |  | Deprecated. |"),
    # what the catalog does not know is shown as written, never dropped
    (
        Annotated[int, Field(json_schema_extra={"x-unit": "cents"})],
        ...,
        '| `f` | `integer` | yes | x-unit: `"cents"` |  |',
    ),
]


@pytest.mark.parametrize(("annotation", "default", "row"), FIELDS)
def test_field_types(annotation: Any, default: Any, row: str) -> None:
    assert field_row(annotation, default) == row


class Order(BaseModel):
    """An order to place."""

    model_config = ConfigDict(extra="forbid")

    order_id: int = Field(alias="orderId")
    items: list[OrderItem]
    pet: Cat | Dog | None = None
    tree: Node | None = None


def test_fields_by_alias_and_nested_models_listed_once() -> None:
    lines = catalog(job(Order, result=list[OrderItem], result_type="list[OrderItem]"))
    text = "\n".join(lines)
    assert "**Payload** `Order`\n\nAn order to place.\n" in text
    assert "| `orderId` | `integer` | yes |  |  |" in lines  # the name on the wire
    assert "Other fields are refused." in lines  # extra="forbid"
    assert "**Result** `list[OrderItem]` (as JSON: `list[OrderItem]`)" in lines
    models = text[text.index("## Models") :]
    # payload and result share OrderItem: listed once, every nested model by name
    assert [line for line in models.splitlines() if line.startswith("### ")] == [
        "### `Cat`",
        "### `Dog`",
        "### `Node`",
        "### `OrderItem`",
    ]
    assert "| `sku` | `string` | yes | length ≥ 1, length ≤ 20 | Stock unit |" in lines
    assert "| `bark` | `number` | yes | > 0, multiple of 0.5 |  |" in lines
    assert "| `children` | `list[Node]` | no, default `[]` |  |  |" in lines  # recursive


def test_two_models_of_one_name_are_told_apart() -> None:
    first = create_model("Item", sku=(str, ...))
    second = create_model("Item", count=(int, ...))
    holder = create_model("Basket", item=(first, ...))
    lines = catalog(job(holder, result=create_model("Receipt", item=(second, ...))))
    assert "| `item` | `Item` | yes |  |  |" in lines
    assert "| `item` | `Item (shop/place result)` | yes |  |  |" in lines
    assert "### `Item`" in lines
    assert "### `Item (shop/place result)`" in lines


def test_enums_and_results_without_model() -> None:
    lines = catalog(job(create_model("Paint", color=(Color, ...)), result=int))
    assert 'One of `"red"`, `"green"`.' in lines
    assert "**Result** `int` (as JSON: `integer`)" in lines
    unannotated = catalog(job(None, result=Any, result_type="JsonValue"))
    assert "**Payload**: none (no schema: the job carries no data)." in unannotated
    assert "**Result** `JsonValue` (any JSON)" in unannotated
    assert not any(line.startswith("## Models") for line in unannotated)


def test_options_schedules_derivations_and_deployment() -> None:
    lines = catalog(
        job(
            None,
            job_options={
                "attempts": 4,
                "backoff": {"type": "exponential", "delay": 1000},
                "removeOnComplete": True,
                "removeOnFail": {"age": 3600, "count": 10},
                "priority": 2,
                "lifo": False,
            },
            worker_options={
                "concurrency": 3,
                "limiter": {"max": 1, "duration": 1000},
                "lockDuration": 60000,
                "drainDelay": 5,
                "maxStartedAttempts": 2,
                "metrics": {"maxDataPoints": 10080},
            },
            schedules=(
                ScheduleContract(
                    id="tick",
                    repeat={"every": 5000, "limit": 3, "immediately": True},
                    payload={"n": 1},
                    job_options={"priority": 1},
                ),
            ),
            derived=("jobId", "deduplication"),
            moved_from="default",
        )
    )
    for row in (
        "| `attempts` | 4 |",
        "| `backoff` | `exponential`, 1000 ms |",
        "| `removeOnComplete` | removed at once |",
        "| `removeOnFail` | keep the last 10 and those under 3600 s old |",
        "| `lifo` | `false` |",
        "| `concurrency` | 3 |",
        "| `limiter` | at most 1 job per 1000 ms (whole queue) |",
        "| `lockDuration` | 60000 ms |",
        "| `drainDelay` | 5 s |",
        "| `maxStartedAttempts` | 2 |",
        "| `metrics` | `maxDataPoints`: 10080 |",
        '| `tick` | every 5000 ms, at most 3 jobs, the first job at once | `{"n": 1}` '
        "| `priority`: 1 |",
        "| PM2 app `shop-workers` | every queue |",
        "| systemd unit `shop-workers.service` | every queue |",
        "Kubernetes Deployment `shop-workers-shop`.",
        "| `shop` | `place` | none | `None` | `shop.jobs.place` |",
    ):
        assert row in lines, row
    text = "\n".join(lines)
    assert "**Job id** derived from the payload (`jobId` in the definitions)" in text
    assert "**Deduplication id** derived from the payload (`deduplication` in" in text
    assert "**Moved from** queue `default`: the workers of this queue also take" in text


def test_a_kubernetes_deployment_per_queue_named_as_deploy_names_it() -> None:
    lines = catalog(job(None), replace(job(None), queue="emailSend", name="welcome"))
    assert "Kubernetes Deployment `shop-workers-shop`." in lines
    assert "Kubernetes Deployment `shop-workers-email-send`." in lines
