"""``run_processor`` / ``record_processor``: one processor, called as a worker calls it."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, ValidationError

from bullmq_codegen import Job
from bullmq_codegen.runtime import JobRoute
from bullmq_codegen.runtime.wire import NotJSONError
from bullmq_codegen.testing import record_processor, run_processor


class Order(BaseModel):
    order_id: int = Field(alias="orderId")
    amount_cents: int = Field(gt=0)


class Receipt(BaseModel):
    order_id: int
    charged_cents: int


class Step(BaseModel):
    done: int
    of: int


async def charge(job: Job[Order, Step]) -> Receipt:
    await job.log(f"attempt {job.attempts_made + 1} of {job.opts.get('attempts', 1)}")
    await job.update_progress(Step(done=1, of=2))
    await job.log("charged")
    await job.update_progress(Step(done=2, of=2))
    return Receipt(order_id=job.payload.order_id, charged_cents=job.payload.amount_cents)


CHARGE = JobRoute(queue="orders", name="charge", schema=Order, processor=charge, progress=Step)
ORDER = Order(orderId=7, amount_cents=1250)


async def test_the_result_progress_and_logs_are_recorded() -> None:
    run = await record_processor(CHARGE, ORDER, attempts_made=2, opts={"attempts": 3})
    assert run.result == Receipt(order_id=7, charged_cents=1250)
    assert run.progress == [Step(done=1, of=2), Step(done=2, of=2)]
    assert run.logs == ["attempt 3 of 3", "charged"]
    job = run.job
    assert (job.name, job.queue_name, job.attempts_made, job.attempts_started) == (
        "charge",
        "orders",
        2,
        3,
    )
    assert job.data == {"orderId": 7, "amount_cents": 1250}  # the JSON a producer sends
    assert job.payload == ORDER
    assert job.payload is not ORDER  # validated from that JSON, as a worker does


async def test_run_processor_returns_the_result() -> None:
    assert await run_processor(CHARGE, ORDER) == Receipt(order_id=7, charged_cents=1250)


async def test_the_payload_is_checked_as_it_travels() -> None:
    with pytest.raises(ValidationError, match="amount_cents"):
        await run_processor(CHARGE, Order.model_construct(order_id=1, amount_cents=-5))
    with pytest.raises(TypeError, match="job 'charge' takes a Order, not str"):
        await run_processor(CHARGE, "an order")  # type: ignore[arg-type]


async def test_a_result_of_the_wrong_type_fails_as_in_a_worker() -> None:
    async def sloppy(job: Job[Order]) -> Receipt:
        return {"order_id": "seven"}  # type: ignore[return-value]

    route = JobRoute(queue="orders", name="sloppy", schema=Order, processor=sloppy)
    with pytest.raises(NotJSONError, match="not its declared result type Receipt"):
        await run_processor(route, ORDER)


async def test_the_processors_exception_propagates() -> None:
    async def broken(job: Job[None]) -> None:
        raise LookupError("no such customer")

    route = JobRoute(queue="orders", name="broken", schema=None, processor=broken)
    with pytest.raises(LookupError, match="no such customer"):
        await run_processor(route, None)


async def test_a_job_without_schema_takes_none() -> None:
    async def tick(job: Job[None]) -> int:
        await job.update_progress(0.5)
        return 3

    route = JobRoute(queue="ticks", name="tick", schema=None, processor=tick)
    run = await record_processor(route, None)
    assert (run.result, run.progress, run.job.data) == (3, [0.5], {})
    with pytest.raises(TypeError, match="job 'tick' takes no payload"):
        await run_processor(route, ORDER)  # type: ignore[arg-type]


async def test_keep_logs_keeps_the_last_rows() -> None:
    async def chatty(job: Job[None]) -> list[int]:
        return [await job.log(f"row {number}") for number in range(4)]

    route = JobRoute(queue="q", name="chatty", schema=None, processor=chatty)
    run = await record_processor(route, None, opts={"keepLogs": 2})
    assert (run.result, run.logs) == ([1, 2, 2, 2], ["row 2", "row 3"])


async def test_children_results_are_given_to_a_flow_parent() -> None:
    async def total(job: Job[None]) -> int:
        receipts = await job.children_results(Receipt)
        return sum(receipt.charged_cents for receipt in receipts.values())

    route = JobRoute(queue="q", name="total", schema=None, processor=total)
    children = {
        "bull:orders:1": {"order_id": 1, "charged_cents": 100},
        "bull:orders:2": {"order_id": 2, "charged_cents": 250},
    }
    assert await run_processor(route, None, children=children) == 350


async def test_ignored_children_failures_are_given_to_a_flow_parent() -> None:
    async def failures(job: Job[None]) -> dict[str, str]:
        return await job.children_failures()

    route = JobRoute(queue="q", name="failures", schema=None, processor=failures)
    failed = {"bull:orders:3": "card declined"}
    assert await run_processor(route, None, children_failures=failed) == failed
