"""A latency worker process of ours: the generated workers of one queue, recording each
stamped job's add-to-start and add-to-complete until SIGTERM.

    python -m bench.scaling.worker QUEUE SAMPLES_FILE

Prints ``ready`` once the workers run; on SIGTERM closes them gracefully and
writes ``{"samples": [[phase, sent, start, complete], ...]}`` to SAMPLES_FILE (nanoseconds:
the monotonic time of the add call, then the delays from it).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from pathlib import Path

from bullmq_codegen.runtime import JobInfo, WorkerListener
from bullmq_codegen.runtime.event_loop import run

from .app.generated import close_connections, create_workers
from .app.queue_definitions import STARTED


class Recorder(WorkerListener):
    """On completion (after Redis recorded it), the delays of a stamped job."""

    def __init__(self) -> None:
        self.samples: list[tuple[int, int, int, int]] = []

    def on_completed(self, job: JobInfo, duration: float) -> None:
        started = STARTED.pop(job.id, None)
        if started is not None:
            phase, sent_ns, started_ns = started
            completed_ns = time.monotonic_ns() - sent_ns
            self.samples.append((phase, sent_ns, started_ns - sent_ns, completed_ns))


async def main(queue: str) -> list[tuple[int, int, int, int]]:
    recorder = Recorder()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    group = create_workers(queues=[queue], listeners=[recorder])
    await group.start()
    print("ready", flush=True)
    await stop.wait()
    await group.close()
    await close_connections()
    return recorder.samples


if __name__ == "__main__":
    samples = run(main(sys.argv[1]))  # on the event loop `workers start` runs workers on
    Path(sys.argv[2]).write_text(json.dumps({"samples": samples}))
