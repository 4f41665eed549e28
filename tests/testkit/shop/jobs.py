"""Queue definitions of the shop: charging an order enqueues its receipt e-mail.

Its connection leads nowhere (port 1): the test kit's fixtures must point the
generated code at the test Redis, or the tests fail.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from bullmq_codegen import Job, create_queue_config


class Order(BaseModel):
    """Payload of ``chargeOrder``."""

    order_id: int
    amount_cents: int = Field(gt=0)
    email: str


class Receipt(BaseModel):
    """Result of ``chargeOrder``."""

    order_id: int
    charged_cents: int


class ReceiptEmail(BaseModel):
    """Payload of ``sendReceipt``."""

    to: str
    order_id: int


async def charge_order(job: Job[Order]) -> Receipt:
    """Charge the order, then enqueue its receipt e-mail."""
    from .generated import enqueue_send_receipt

    order = job.payload
    await job.log(f"charging order {order.order_id}")
    await job.update_progress(50)
    await enqueue_send_receipt(ReceiptEmail(to=order.email, order_id=order.order_id))
    await job.update_progress(100)
    return Receipt(order_id=order.order_id, charged_cents=order.amount_cents)


async def send_receipt(job: Job[ReceiptEmail]) -> None:
    """Send the receipt e-mail (this one only logs it)."""
    await job.log(f"receipt of order {job.payload.order_id} sent to {job.payload.to}")


queue_config = create_queue_config(
    queues={
        "orders": {
            "workers": {
                "chargeOrder": {"schema": Order, "processor": charge_order},
            },
        },
        "receipts": {
            "workers": {
                "sendReceipt": {"schema": ReceiptEmail, "processor": send_receipt},
            },
        },
    },
    connection="redis://127.0.0.1:1/0",
)
