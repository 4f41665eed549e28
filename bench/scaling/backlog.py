"""Preparing the queues with the generated app, outside any measured window.

Every queue is paused, filled, then resumed once all the worker processes of
a run are up, so none starts ahead of the others and the measured window sees
every process busy. The app's connection and prefix are read from
``BENCH_REDIS_URL`` and ``BENCH_PREFIX`` when it is first imported (here,
lazily: the caller sets them first).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

__all__ = ["drain", "fill", "resume"]

_CHUNK = 10_000


def _bulk_adder(queue: str) -> Callable[[int], Awaitable[object]]:
    """Adds ``count`` jobs of ``queue``'s one job name (stamped jobs: phase 0, not recorded)."""
    from .app.generated import producers
    from .app.queue_definitions import Stamp

    if queue.startswith("latency"):
        enqueue = (
            producers.enqueue_stamped_noop_bulk
            if queue == "latencyNoop"
            else producers.enqueue_stamped_sleep_bulk
        )
        backlog_job = Stamp(sent_ns=0, phase=0)
        return lambda count: enqueue([backlog_job] * count)
    kind, index = queue[:-1], queue[-1]
    adder: Callable[[int], Awaitable[object]] = getattr(
        producers, f"enqueue_{kind}_job{index}_bulk"
    )
    return adder


def _run(work: Callable[[], Awaitable[None]]) -> None:
    from .app.generated import close_connections

    async def then_close() -> None:
        try:
            await work()
        finally:
            await close_connections()

    asyncio.run(then_close())


def fill(queues: Sequence[str], jobs_per_queue: int) -> None:
    """Pause ``queues`` and add ``jobs_per_queue`` jobs to each."""
    from .app.generated.queues import runtime

    async def work() -> None:
        for queue in queues:
            await runtime.queue(queue).pause()
            add = _bulk_adder(queue)
            for start in range(0, jobs_per_queue, _CHUNK):
                await add(min(_CHUNK, jobs_per_queue - start))

    _run(work)


def resume(queues: Sequence[str]) -> None:
    """Let the workers take the jobs of ``queues``."""
    from .app.generated.queues import runtime

    async def work() -> None:
        for queue in queues:
            await runtime.queue(queue).resume()

    _run(work)


def drain(queues: Sequence[str]) -> None:
    """Remove the jobs still waiting in ``queues`` (running ones finish)."""
    from .app.generated.queues import runtime

    async def work() -> None:
        for queue in queues:
            await runtime.queue(queue).drain()

    _run(work)
