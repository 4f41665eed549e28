"""An API process's start, in a fresh process: the import, then the first job added (connecting
and loading the scripts included), by raw bullmq-py or by the generated producers. Prints one
JSON line: ``import_s`` and ``first_add_s``.

    python -m bench.install.first_enqueue raw|ours
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
PREFIX = os.environ.get("BENCH_PREFIX", "bench")


def main() -> None:
    started = time.perf_counter()
    if sys.argv[1] == "raw":
        from bullmq import Queue

        imported = time.perf_counter()

        async def first() -> float:
            queue = Queue("pings", {"connection": URL, "prefix": PREFIX})
            await queue.add("ping", {}, {"removeOnComplete": True})
            added = time.perf_counter()
            await queue.close()
            return added
    else:
        from bench.app.queues.generated import close_connections, enqueue_ping

        imported = time.perf_counter()

        async def first() -> float:
            await enqueue_ping()
            added = time.perf_counter()
            await close_connections()
            return added

    added = asyncio.run(first())
    print(json.dumps({"import_s": imported - started, "first_add_s": added - imported}))


if __name__ == "__main__":
    main()
