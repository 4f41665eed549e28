"""Payloads and results of the flows case."""

from __future__ import annotations

from pydantic import BaseModel


class PartRequest(BaseModel):
    """Quote one part; ``fail`` makes the quote fail."""

    sku: str
    cents: int
    fail: bool = False


class Quote(BaseModel):
    """The price of one part."""

    sku: str
    cents: int


class Order(BaseModel):
    """Assemble an order from its parts' quotes."""

    order_id: int


class Total(BaseModel):
    """What an order costs."""

    order_id: int
    cents: int
    parts: int


class Attempt(BaseModel):
    """A job that always fails, to be retried by a backoff strategy."""

    label: str
