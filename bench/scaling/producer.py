"""Our steady-rate producer: the generated ``enqueue_<job>`` at RATE jobs/s for SECONDS.

    python -m bench.scaling.producer QUEUE RATE SECONDS PHASE

Each job carries ``time.monotonic_ns()`` taken just before its enqueue call and
its phase. Every millisecond or so the producer starts the adds that are due
(so arrivals are steady, in small batches), without waiting for earlier ones;
at most ``MAX_IN_FLIGHT`` adds are awaited at once. Prints one JSON line: jobs
sent, the wall time and the rate achieved, its own CPU time, and how long an enqueue
call took (p50, p99: the producer's own share of the delays).
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from collections.abc import Awaitable, Callable

from .app.generated import close_connections, producers
from .app.queue_definitions import Stamp
from .stats import percentile_ms

MAX_IN_FLIGHT = 1000


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def main(queue: str, rate: float, seconds: float, phase: int) -> dict[str, float]:
    enqueue: Callable[[Stamp], Awaitable[object]] = (
        producers.enqueue_stamped_noop
        if queue == "latencyNoop"
        else producers.enqueue_stamped_sleep
    )

    calls: list[int] = []

    async def add() -> None:
        sent_ns = time.monotonic_ns()
        await enqueue(Stamp(sent_ns=sent_ns, phase=phase))
        calls.append(time.monotonic_ns() - sent_ns)

    await enqueue(Stamp(sent_ns=0, phase=0))  # connect and load the scripts outside the clock
    total = round(rate * seconds)
    in_flight: set[asyncio.Task[None]] = set()
    errors: list[BaseException] = []

    def done(task: asyncio.Task[None]) -> None:
        in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            errors.append(task.exception())  # type: ignore[arg-type]

    started, cpu = time.monotonic(), _cpu()
    sent = 0
    while sent < total and not errors:
        due = min(total, int(rate * (time.monotonic() - started)))
        while sent < due and len(in_flight) < MAX_IN_FLIGHT:
            task = asyncio.create_task(add())
            in_flight.add(task)
            task.add_done_callback(done)
            sent += 1
        await asyncio.sleep(0.001)
    await asyncio.gather(*in_flight, return_exceptions=True)
    wall, cpu = time.monotonic() - started, _cpu() - cpu
    await close_connections()
    if errors:
        raise errors[0]
    calls.sort()
    return {
        "jobs": sent,
        "wall": wall,
        "jobs_per_s": sent / wall,
        "cpu": cpu,
        "add_p50_ms": percentile_ms(calls, 0.5),
        "add_p99_ms": percentile_ms(calls, 0.99),
    }


if __name__ == "__main__":
    queue, rate, seconds, phase = sys.argv[1:5]
    print(json.dumps(asyncio.run(main(queue, float(rate), float(seconds), int(phase)))))
