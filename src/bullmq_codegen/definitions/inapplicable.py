"""Node BullMQ worker options that have no meaning for workers run by this runtime, and why.

A definitions module that sets one is refused with the reason, instead of a bare
"unknown key": a team coming from Node looks for these first.
"""

from __future__ import annotations

__all__ = ["INAPPLICABLE_WORKER_OPTIONS"]

INAPPLICABLE_WORKER_OPTIONS: dict[str, str] = {
    "autorun": (
        "create_workers() returns workers that are not started yet (start them with "
        "`async with create_workers()` or `await group.start()`), and `bullmq-codegen workers "
        "start --queue/--worker` chooses which ones a process runs"
    ),
    "connection": "every queue uses the connection given to create_queue_config(connection=...)",
    "prefix": "every queue uses the prefix given to create_queue_config(prefix=...)",
    "runRetryDelay": (
        "the runtime retries Redis connection errors itself (50 ms doubling to 2 s, for as long "
        "as the job's lock lasts) and the runner restarts a failed queue worker with backoff"
    ),
    "settings": "declare a custom backoff with the worker's backoffStrategy key",
    "useWorkerThreads": (
        "processors are async functions on the worker's event loop; run CPU-bound work with "
        "asyncio.to_thread or a process pool inside the processor, and scale out with more "
        "processes (WORKER_INSTANCES)"
    ),
    "sandboxed": "processors are async functions, not files run in child processes",
    "telemetry": (
        "OpenTelemetry is not built in; the runner exports Prometheus metrics at /metrics and "
        "logs every job on request"
    ),
}
"""Option key → why it does not apply (the rest of the sentence after "does not apply here:")."""
