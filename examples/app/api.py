"""A tiny API process of the example app: it enqueues jobs and reports worker health.

    python -m app.api          (from examples/; API_HOST, API_PORT; WORKER_ENABLED is irrelevant here)

``POST /signup`` with ``{"to": ..., "template": ...}`` enqueues ``afterSignUpEmail``
(422 with the validation errors when the payload is invalid); ``GET
/health/workers`` is the original design's endpoint, answered from the workers'
heartbeats in Redis without importing or starting a worker; ``GET /health``
says the API is up. Standard library only: mount ``get_worker_health()`` in your
own framework the same way.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from typing import Any

from pydantic import ValidationError

from app.queues.generated.producers import enqueue_after_sign_up_email
from app.queues.generated.queues import close_connections, get_worker_health
from app.queues.queue_definitions import EmailSend


async def route(method: str, path: str, body: bytes) -> tuple[int, Any]:
    """Status and JSON body of one request."""
    if (method, path) == ("GET", "/health"):
        return 200, {"status": "ok"}
    if (method, path) == ("GET", "/health/workers"):
        report = await get_worker_health()
        return (200 if report["status"] == "ok" else 503), report
    if (method, path) == ("POST", "/signup"):
        try:
            job = await enqueue_after_sign_up_email(EmailSend.model_validate_json(body))
        except ValidationError as error:
            return 422, {"errors": json.loads(error.json())}
        return 202, {"jobId": job.id}
    return 404, {"error": f"no route {method} {path}"}


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, path, _ = request_line.split(" ", 2)
        headers = dict(line.split(": ", 1) for line in header_lines if ": " in line)
        body = await reader.readexactly(int(headers.get("Content-Length", "0")))
        status, payload = await route(method, path.split("?", 1)[0], body)
        data = json.dumps(payload).encode()
        writer.write(
            f"HTTP/1.1 {status} -\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            f"Connection: close\r\n\r\n".encode()
            + data
        )
        await writer.drain()
    except (asyncio.IncompleteReadError, ValueError, ConnectionError):
        pass
    finally:
        writer.close()


async def main() -> None:
    host, port = os.environ.get("API_HOST", "127.0.0.1"), int(os.environ.get("API_PORT", "8000"))
    server = await asyncio.start_server(handle, host, port)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    print(f"API on http://{host}:{port}", flush=True)
    async with server:
        await stop.wait()
    await close_connections()


if __name__ == "__main__":
    asyncio.run(main())
