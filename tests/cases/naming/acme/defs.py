"""Tricky names: acronyms, hyphens, clashing class names, a nested model (test case)."""

from __future__ import annotations

import os

from pydantic import BaseModel

from bullmq_codegen import Job, create_queue_config

from .models import billing, mail


class Outer:
    """A namespace holding a model."""

    class Payload(BaseModel):
        """A nested model."""

        host: str


async def ping_host_worker(job: Job[Outer.Payload]) -> None:
    """Ping a host."""


async def send_invoice(job: Job[billing.Invoice]) -> int:
    """Send an invoice; returns its amount."""
    return job.payload.cents


async def mail_invoice(job: Job[mail.Invoice]) -> str:
    """Mail an invoice; returns the recipient."""
    return job.payload.recipient


async def close_connections(job: Job[None]) -> None:
    """A processor whose name generated code also defines."""


config = create_queue_config(
    queues={
        "HTTPPing": {"workers": {"ping-host": {"schema": Outer.Payload, "processor": ping_host_worker}}},
        "billing": {
            "workers": {
                "sendInvoice": {"schema": billing.Invoice, "processor": send_invoice},
                "mailInvoice": {"schema": mail.Invoice, "processor": mail_invoice},
            }
        },
        "v2_jobs": {"workers": {"runtime": {"processor": close_connections}}},
    },
    connection=os.environ.get("BULLMQ_TEST_REDIS_URL", "redis://localhost:6379/0"),
    prefix=os.environ.get("BULLMQ_PREFIX", "bull"),
)
