"""A parent queue and a child queue for flows; a queue of backoff strategies (test case)."""

from __future__ import annotations

import asyncio
import os

from pydantic import JsonValue, TypeAdapter

from bullmq_codegen import Job, create_queue_config

from .schemas import Attempt, Order, PartRequest, Quote, Total

SEEN: dict[str, tuple[dict[str, JsonValue], dict[str, Quote | Total]]] = {}
"""Parent job id → the children's values and typed results its processor read."""
STRATEGY_CALLS: list[tuple[str, int, str, str, object]] = []
"""(worker, attempts_made, backoff type, error message, job payload) of every strategy call."""


async def quote_part(job: Job[PartRequest]) -> Quote:
    """Quote one part, or fail when asked to."""
    if job.payload.fail:
        raise RuntimeError(f"no quote for {job.payload.sku}")
    return Quote(sku=job.payload.sku, cents=job.payload.cents)


_PART_RESULT: TypeAdapter[Quote | Total] = TypeAdapter(Quote | Total)


async def assemble_order(job: Job[Order]) -> Total:
    """Sum the quotes of the order's parts and sub-assemblies (its children)."""
    values = await job.children_values()
    results = await job.children_results(_PART_RESULT)
    SEEN[job.id] = (values, results)
    return Total(
        order_id=job.payload.order_id,
        cents=sum(result.cents for result in results.values()),
        parts=sum(1 if isinstance(result, Quote) else result.parts for result in results.values()),
    )


async def always_fails(job: Job[Attempt]) -> None:
    """Fails every attempt."""
    raise RuntimeError(f"{job.payload.label} failed attempt {job.attempts_made + 1}")


def growing(attempts_made: int, backoff_type: str, error: BaseException, job: Job[Attempt]) -> int:
    """10 s after the first failure, 20 s after the second..."""
    STRATEGY_CALLS.append(("growing", attempts_made, backoff_type, str(error), job.payload))
    return 10_000 * attempts_made


def give_up(attempts_made: int, backoff_type: str, error: BaseException, job: Job[Attempt]) -> int:
    """No retry at all."""
    STRATEGY_CALLS.append(("givingUp", attempts_made, backoff_type, str(error), job.payload))
    return -1


async def slow_answer(
    attempts_made: int, backoff_type: str, error: BaseException, job: Job[Attempt]
) -> int:
    """An async strategy: 30 s."""
    await asyncio.sleep(0.01)
    STRATEGY_CALLS.append(("asyncBackoff", attempts_made, backoff_type, str(error), job.payload))
    return 30_000


def broken(attempts_made: int, backoff_type: str, error: BaseException, job: Job[Attempt]) -> int:
    """A strategy with a bug."""
    raise ValueError("no delay for you")


queue_config = create_queue_config(
    queues={
        "orders": {
            "workers": {
                "assembleOrder": {"schema": Order, "processor": assemble_order},
            },
        },
        "parts": {
            "workers": {
                "quotePart": {
                    "schema": PartRequest,
                    "processor": quote_part,
                    "options": {"concurrency": 4},
                },
            },
        },
        "retries": {
            "workers": {
                "growing": {
                    "schema": Attempt,
                    "processor": always_fails,
                    "backoffStrategy": growing,
                },
                "givingUp": {
                    "schema": Attempt,
                    "processor": always_fails,
                    "backoffStrategy": give_up,
                },
                "asyncBackoff": {
                    "schema": Attempt,
                    "processor": always_fails,
                    "backoffStrategy": slow_answer,
                },
                "brokenBackoff": {
                    "schema": Attempt,
                    "processor": always_fails,
                    "backoffStrategy": broken,
                },
                "plain": {"schema": Attempt, "processor": always_fails},
            },
        },
    },
    connection=os.environ.get("BULLMQ_TEST_REDIS_URL", "redis://localhost:6379/0"),
    prefix=os.environ.get("BULLMQ_PREFIX", "bull"),
)
