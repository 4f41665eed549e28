"""Billing models."""

from pydantic import BaseModel


class Invoice(BaseModel):
    """An invoice to send."""

    number: str
    cents: int
