"""The processor expects a ``Refund`` job but the worker's schema is ``Invoice``: generated code
must not type-check (the checker, not production, finds the mismatch)."""

from __future__ import annotations

from pydantic import BaseModel

from bullmq_codegen import Job, create_queue_config


class Invoice(BaseModel):
    """An invoice."""

    number: str


class Refund(BaseModel):
    """A refund."""

    amount: int


async def refund(job: Job[Refund]) -> None:
    """Refund an amount."""


queue_config = create_queue_config(
    queues={"billing": {"workers": {"sendInvoice": {"schema": Invoice, "processor": refund}}}},
    connection="redis://localhost:6379/0",
)
