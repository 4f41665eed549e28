"""Definitions using every construct the TypeScript export handles (test_typescript_export.py
type-checks their export under ``tsc --strict``)."""

from __future__ import annotations

import datetime
import enum
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from bullmq_codegen import Job, create_queue_config, define_worker


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Size(enum.IntEnum):
    SMALL = 1
    LARGE = 2


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int = 9


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool


class Category(BaseModel):
    """A tree of categories (a recursive model)."""

    name: str
    children: list[Category] = []
    parent: Category | None = None


class Left(BaseModel):
    side: Literal["left"]
    right: Right | None = None


class Right(BaseModel):
    side: Literal["right"]
    lefts: list[Left]


class Price(BaseModel):
    """Validated from a number or a string; stored as a string (two schemas, one name)."""

    amount: Decimal
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "EUR"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def label(self) -> str:
        return f"{self.amount} {self.currency}"


class Listing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID
    title: Annotated[str, Field(min_length=1, max_length=80)]
    color: Color
    size: Size = Size.SMALL
    pet: Cat | Dog = Field(discriminator="kind")
    either: int | str
    tags: set[str] = set()
    dims: tuple[float, float]
    stock: dict[str, Annotated[int, Field(ge=0)]] = {}
    per_color: dict[Literal["red", "green"], int] = {}
    category: Category
    side: Left | Right | None = None
    price: Price
    listed_on: datetime.date
    updated_at: datetime.datetime | None = None
    note: str | None = Field(default=None, alias="note-text")


class Listed(BaseModel):
    listing_id: uuid.UUID
    price: Price
    categories: list[Category]


async def list_item(job: Job[Listing]) -> Listed:
    return Listed(
        listing_id=job.payload.id, price=job.payload.price, categories=[job.payload.category]
    )


async def count(job: Job[None]) -> dict[str, int]:
    return {}


async def untyped(job: Job[None]) -> Any:  # any JSON
    return None


queue_config = create_queue_config(
    queues={
        "market-place": {
            "workers": {
                "list-item": define_worker(schema=Listing, processor=list_item),
                "count": define_worker(processor=count),
                "untyped": define_worker(processor=untyped),
            }
        }
    },
    connection="redis://localhost:6379/0",
)
