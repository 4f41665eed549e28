"""Checked by mypy --strict and pyright strict (test_typing.py): the test kit keeps the types
of the routes it runs. Lines marked ``expect-error`` must be errors, and only those."""

from __future__ import annotations

from typing import assert_type

from pydantic import BaseModel
from shop.generated import charge_order_worker, send_receipt_worker
from shop.jobs import Order, Receipt, ReceiptEmail

from bullmq_codegen import Job
from bullmq_codegen.runtime import JobRoute
from bullmq_codegen.testing import ProcessorRun, record_processor, run_processor


class Step(BaseModel):
    done: int


async def stepped(job: Job[Order, Step]) -> list[Receipt]:
    await job.update_progress(Step(done=1))
    return []


STEPPED = JobRoute(queue="orders", name="stepped", schema=Order, processor=stepped, progress=Step)
ORDER = Order(order_id=1, amount_cents=5, email="a@b.c")


async def generated_routes() -> None:
    assert_type(await run_processor(charge_order_worker, ORDER), Receipt)
    run = await record_processor(charge_order_worker, ORDER, attempts_made=1, opts={"attempts": 2})
    assert_type(run, ProcessorRun[Receipt, float])
    assert_type(run.progress, list[float])
    assert_type(run.logs, list[str])
    assert_type(await run_processor(send_receipt_worker, ReceiptEmail(to="a", order_id=1)), None)


async def a_progress_model() -> None:
    run = await record_processor(STEPPED, ORDER)
    assert_type(run.result, list[Receipt])
    assert_type(run.progress, list[Step])


async def misuse() -> None:
    await run_processor(charge_order_worker, ReceiptEmail(to="a", order_id=1))  # expect-error
    await run_processor(send_receipt_worker, ORDER)  # expect-error
    wrong: str = await run_processor(charge_order_worker, ORDER)  # expect-error
    steps: list[int] = (await record_processor(STEPPED, ORDER)).progress  # expect-error
    await run_processor(charge_order_worker, ORDER, opts={"attempts": "2"})  # expect-error
    print(wrong, steps)
