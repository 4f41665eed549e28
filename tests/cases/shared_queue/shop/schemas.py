"""Payload models of the shop's jobs (in a module of their own, as many apps do)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

from pydantic import BaseModel, Field


class Currency(str, Enum):
    """A currency code."""

    EUR = "EUR"
    USD = "USD"


class Money(BaseModel):
    """An amount in a currency."""

    amount: Decimal = Field(gt=0)
    currency: Currency


class Charge(BaseModel):
    """Charge an order's card."""

    order_id: int
    total: Money
    requested_at: datetime


class Receipt(BaseModel):
    """Send an order's receipt."""

    order_id: int
    email: str
    lines: list[str] = Field(min_length=1)
