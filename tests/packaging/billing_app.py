"""A small app of its own, written as a user of the installed package would: ``billing``.

Two queues, one worker each: ``chargeInvoice`` takes an ``Invoice`` and returns a
``Receipt``; ``dailyReport`` takes no payload and returns a text. The connection
reads ``BILLING_REDIS_URL`` and the key prefix ``BILLING_QUEUE_PREFIX``, names of
the app's own (not the bundled example's ``REDIS_HOST``...).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["GRACE_MS", "MISTAKES", "expected_receipts", "write_app"]

GRACE_MS = 4000
"""The app's graceful shutdown timeout (``[tool.bullmq-codegen.workers]``)."""

_PYPROJECT = f"""\
[project]
name = "billing-service"
version = "0.3.0"
requires-python = ">=3.11"
dependencies = ["bullmq-codegen"]

[tool.bullmq-codegen]
config = "billing/jobs.py"

[tool.bullmq-codegen.workers]
gracefulShutdownTimeout = {GRACE_MS}

[tool.bullmq-codegen.deploy]
name = "billing"
workerInstances = 1

[tool.mypy]
strict = true
"""

_JOBS = '''\
"""Billing jobs: invoices are charged; a daily report is compiled."""

from __future__ import annotations

import os

from pydantic import BaseModel, Field

from bullmq_codegen import Job, create_queue_config


class Invoice(BaseModel):
    """An invoice to charge."""

    invoice_id: str = Field(pattern=r"^INV-[0-9]+$")
    customer: str
    amount_cents: int = Field(gt=0)


class Receipt(BaseModel):
    """What charging an invoice produced."""

    invoice_id: str
    charged_cents: int
    fee_cents: int


async def charge_invoice(job: Job[Invoice]) -> Receipt:
    """Charge the invoice plus a 3 % fee."""
    invoice = job.payload
    fee = invoice.amount_cents * 3 // 100
    return Receipt(
        invoice_id=invoice.invoice_id,
        charged_cents=invoice.amount_cents + fee,
        fee_cents=fee,
    )


async def daily_report(job: Job[None]) -> str:
    """Compile the daily report (named after the job)."""
    return f"report {job.id}"


queue_config = create_queue_config(
    queues={
        "invoices": {
            "options": {"defaultJobOptions": {"attempts": 3, "removeOnFail": 100}},
            "workers": {
                "chargeInvoice": {
                    "schema": Invoice,
                    "processor": charge_invoice,
                    "options": {"concurrency": 4},
                },
            },
        },
        "reports": {
            "workers": {"dailyReport": {"processor": daily_report}},
        },
    },
    connection=os.environ.get("BILLING_REDIS_URL", "redis://localhost:6379/0"),
    prefix=os.environ.get("BILLING_QUEUE_PREFIX", "billing"),
)
'''

_CHECKOUT = '''\
"""Charge invoices through the generated producers; print the typed results as JSON."""

from __future__ import annotations

import asyncio
import json
import sys

from pydantic import ValidationError

from billing.generated import (
    close_connections,
    enqueue_charge_invoice,
    enqueue_daily_report_and_wait,
)
from billing.jobs import Invoice, Receipt


async def checkout(count: int) -> dict[str, object]:
    """Enqueue ``count`` invoices and a report; wait for every result."""
    try:
        await enqueue_charge_invoice(
            Invoice.model_construct(invoice_id="nope", customer="x", amount_cents=0)
        )
        refused = False
    except ValidationError:
        refused = True
    jobs = [
        await enqueue_charge_invoice(
            Invoice(invoice_id=f"INV-{n}", customer=f"customer {n}", amount_cents=1000 + n)
        )
        for n in range(count)
    ]
    receipts: list[Receipt] = [await job.result(timeout=60) for job in jobs]
    report: str = await enqueue_daily_report_and_wait(timeout=60)
    await close_connections()
    return {
        "invalid_refused": refused,
        "receipts": [receipt.model_dump() for receipt in receipts],
        "report": report,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(checkout(int(sys.argv[1])))))
'''

# Calls the type checker must refuse: the installed package's types reach the app.
MISTAKES = """\
from billing.generated import enqueue_charge_invoice, enqueue_daily_report_and_wait
from billing.jobs import Receipt


async def wrong() -> None:
    await enqueue_charge_invoice(Receipt(invoice_id="INV-1", charged_cents=1, fee_cents=0))
    count: int = await enqueue_daily_report_and_wait(dleay=5000)
"""


def write_app(root: Path) -> Path:
    """Write the app (no generated code yet) into ``root``; return ``root``."""
    package = root / "billing"
    package.mkdir(parents=True)
    (root / "pyproject.toml").write_text(_PYPROJECT)
    (package / "__init__.py").write_text('"""The billing service."""\n')
    (package / "jobs.py").write_text(_JOBS)
    (package / "checkout.py").write_text(_CHECKOUT)
    return root


def expected_receipts(count: int) -> list[dict[str, object]]:
    """The receipts ``checkout(count)`` must print, computed independently of the app."""
    return [
        {
            "invoice_id": f"INV-{n}",
            "charged_cents": 1000 + n + (1000 + n) * 3 // 100,
            "fee_cents": (1000 + n) * 3 // 100,
        }
        for n in range(count)
    ]
