"""Waiting for results, the generated code's side; prints one JSON line.

Each run has its own worker in the same process (no-op jobs), as
``waiting.js`` has a Node worker, so the whole round trip is one
implementation's: add, take, complete, the ``completed`` event, the waiter.
Jobs are kept on completion (``removeOnComplete: false``) on both sides, so a
job that finishes before its waiter registers resolves from its hash.

    python -m bench.workloads.waiting latency --jobs N
        N sequential round trips: enqueue a job, wait for its result (p50/p99 ms)
    python -m bench.workloads.waiting waiters --jobs N
        N jobs added, N concurrent waiters registered, then the worker (concurrency
        100) starts; results/s from the worker's start to the last result, and the
        connections this process holds while the N wait (before the worker starts)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import time
from typing import Any

from redis.asyncio import Redis

from bullmq_codegen.runtime import event_loop

URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
_WARM_UP = 20


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def connections() -> int:
    """Clients connected to the benchmark's Redis, the observer itself left out (the harness
    runs one measurement at a time, so they are this process's)."""
    observer = Redis.from_url(URL, decode_responses=True)
    try:
        return len(await observer.client_list()) - 1
    finally:
        await observer.aclose()


async def latency(jobs: int) -> dict[str, Any]:
    from bench.app.queues import generated

    queue = generated.pings_queue
    group = generated.create_workers(queues=["pings"])
    await group.start()

    async def round_trip() -> None:
        job = await generated.enqueue_ping(removeOnComplete=False)
        await queue.wait_until_finished(job.id, timeout=30)

    for _ in range(_WARM_UP):  # connections, scripts and the event reader, outside the clock
        await round_trip()
    times: list[float] = []
    started, cpu = time.perf_counter(), cpu_seconds()
    for _ in range(jobs):
        before = time.perf_counter()
        await round_trip()
        times.append(time.perf_counter() - before)
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    await generated.close_connections()
    times.sort()
    return {
        "jobs": jobs,
        "wall": wall,
        "cpu": cpu,
        "p50_ms": statistics.median(times) * 1000,
        "p99_ms": times[max(int(len(times) * 0.99) - 1, 0)] * 1000,
    }


async def waiters(jobs: int) -> dict[str, Any]:
    from bench.app.queues import generated
    from bench.app.queues.generated.queues import runtime

    queue = generated.noop_c100_queue
    before = await connections()
    added = await generated.enqueue_noop_c100_job_bulk(jobs, removeOnComplete=False)
    waits = [asyncio.create_task(queue.wait_until_finished(job.id, timeout=120)) for job in added]
    reader = runtime.events("noopC100")
    for _ in range(6000):  # every waiter has checked its job (a minute at most)
        if reader.watched >= jobs:
            break
        await asyncio.sleep(0.01)
    during = await connections() - before
    group = generated.create_workers(queues=["noopC100"])
    started, cpu = time.perf_counter(), cpu_seconds()
    await group.start()
    await asyncio.gather(*waits)
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    await generated.close_connections()
    return {"jobs": jobs, "wall": wall, "cpu": cpu, "connections": during}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["latency", "waiters"])
    parser.add_argument("--jobs", type=int, default=1000)
    args = parser.parse_args()
    run = latency if args.command == "latency" else waiters
    # on the event loop `bullmq-codegen workers start` runs workers on
    print(json.dumps(event_loop.run(run(args.jobs))))


if __name__ == "__main__":
    main()
