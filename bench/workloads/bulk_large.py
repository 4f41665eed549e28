"""A bulk of 100,000 payloads in a fresh process; prints one JSON line.

``ours`` is ``add_jobs`` in chunked transactions (``--chunk``, the default
chunk size unless given; ``--chunk 0`` sends the whole bulk in one transaction,
as ``add_jobs`` did before it was chunked); ``raw`` is bullmq-py's
``Queue.addBulk`` (one transaction). While the bulk runs, a separate process
PINGs Redis every millisecond on a connection of its own: its worst and 99th
percentile latency is how long Redis was blocked for other clients. The
client's memory cost is its peak RSS during the bulk minus its RSS once the
payloads exist (``/proc/self/clear_refs`` resets the peak first).

    python -m bench.workloads.bulk_large --impl ours|raw [--jobs N] [--chunk C]
    python -m bench.workloads.bulk_large ping   (the pinger: reports when stdin closes)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .python_side import PREFIX, URL, cpu_seconds, rss_kib

if TYPE_CHECKING:
    from bullmq_codegen import Job


def ping_forever() -> None:
    """PING every millisecond until stdin closes; print the latencies seen."""
    parts = urlsplit(URL)
    connection = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379))
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    latencies: list[float] = []
    print("ready", flush=True)
    while not stop.is_set():
        began = time.perf_counter()
        connection.sendall(b"PING\r\n")
        if not connection.recv(64).startswith(b"+PONG"):
            raise SystemExit("PING did not answer PONG")
        latencies.append(time.perf_counter() - began)
        time.sleep(0.001)
    latencies.sort()
    print(
        json.dumps(
            {
                "pings": len(latencies),
                "worst_ping_ms": latencies[-1] * 1000,
                "p99_ping_ms": latencies[int(len(latencies) * 0.99)] * 1000,
                "median_ping_ms": statistics.median(latencies) * 1000,
            }
        )
    )


def peak_rss_reset() -> None:
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")


def peak_rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


async def noop(job: Job[None]) -> None:
    """The jobs' processor (never run: the benchmark only adds)."""


async def bulk(impl: str, jobs: int, chunk: int) -> None:
    if impl == "raw":
        from bullmq import Queue

        queue = Queue("bulkLarge", {"connection": URL, "prefix": PREFIX})
        items: Any = [{"name": "ping", "data": {"host": f"h{i}"}} for i in range(jobs)]
        warmup = Queue("bulkWarmup", {"connection": URL, "prefix": PREFIX})
        await warmup.addBulk(items[:1])  # load the scripts before the clock starts
        await warmup.close()
        result = await measured(lambda: queue.addBulk(items), len(items))
        await queue.close()
    else:
        from bullmq_codegen import create_queue_config
        from bullmq_codegen.runtime import Runtime
        from bullmq_codegen.runtime.adding import DEFAULT_CHUNK_SIZE, add_jobs

        runtime = Runtime(
            create_queue_config(
                queues={
                    "bulkLarge": {"workers": {"ping": {"processor": noop}}},
                    "bulkWarmup": {"workers": {"pong": {"processor": noop}}},
                },
                connection=URL,
                prefix=PREFIX,
            )
        )
        context = runtime.context("bulkLarge")
        data = [json.dumps({"host": f"h{i}"}, separators=(",", ":")) for i in range(jobs)]
        await add_jobs(runtime.context("bulkWarmup"), "ping", data[:1], {})  # load the scripts
        size = chunk or jobs
        result = await measured(lambda: add_jobs(context, "ping", data, {}, chunk_size=size), jobs)
        result["chunk"] = size
        result["default_chunk"] = DEFAULT_CHUNK_SIZE
        await runtime.close()
    print(json.dumps(result))


async def measured(run: Any, jobs: int) -> dict[str, Any]:
    pinger = subprocess.Popen(  # noqa: ASYNC220 (before the clock starts)
        [sys.executable, "-m", "bench.workloads.bulk_large", "ping"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ,
    )
    assert pinger.stdout is not None
    pinger.stdout.readline()  # ready
    gc.collect()
    peak_rss_reset()
    baseline = rss_kib()
    cpu = cpu_seconds()
    began = time.perf_counter()
    ids = await run()
    wall = time.perf_counter() - began
    cpu = cpu_seconds() - cpu
    peak = peak_rss_kib()
    out, _ = pinger.communicate("")
    if len(ids) != jobs:
        raise SystemExit(f"added {len(ids)} jobs, not {jobs}")
    return {
        "jobs": jobs,
        "wall": wall,
        "cpu": cpu,
        "rss_delta_mib": (peak - baseline) / 1024,
        **json.loads(out.strip().splitlines()[-1]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.workloads.bulk_large")
    parser.add_argument("mode", nargs="?", default="bulk", choices=["bulk", "ping"])
    parser.add_argument("--impl", choices=["ours", "raw"], default="ours")
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=None, help="0: one transaction")
    arguments = parser.parse_args()
    if arguments.mode == "ping":
        ping_forever()
        return
    from bullmq_codegen.runtime.adding import DEFAULT_CHUNK_SIZE

    chunk = DEFAULT_CHUNK_SIZE if arguments.chunk is None else arguments.chunk
    asyncio.run(bulk(arguments.impl, arguments.jobs, chunk))


if __name__ == "__main__":
    main()
