"""The runner's opt-in health server: liveness, readiness, workers and Prometheus metrics.

``GET /health/live``     200 while the process and its event loop answer (from the start,
                         while Redis is still waited for).
``GET /health/ready``    200 when Redis answers and every selected worker runs; 503 otherwise
                         (at start until then; a Redis blip makes the process not ready, not dead).
``GET /health/workers``  JSON: this process's workers, and every worker's heartbeat in Redis.
``GET /metrics``         Prometheus text format.

A deliberately small HTTP/1.1 server on asyncio (one request per connection):
the runner needs four read-only endpoints, not a web framework.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["Handler", "HealthServer", "Response", "starting_routes"]

Response = tuple[int, str, bytes]
"""Status, content type, body."""
Handler = Callable[[], Awaitable[Response]]

_REASONS = {
    200: "OK",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def json_response(status: int, payload: Any) -> Response:
    """A JSON response."""
    return status, "application/json", (json.dumps(payload, indent=2) + "\n").encode()


def starting_routes(reason: str) -> dict[str, Handler]:
    """The endpoints while the process starts: alive, not ready (``reason`` says why)."""

    async def live() -> Response:
        return json_response(200, {"status": "alive"})

    async def not_yet() -> Response:
        return json_response(503, {"status": "starting", "reason": reason})

    return {
        "/health/live": live,
        "/health/ready": not_yet,
        "/health/workers": not_yet,
        "/metrics": not_yet,
    }


class HealthServer:
    """Serves ``routes`` (path → handler) on ``host:port``."""

    def __init__(self, host: str, port: int, routes: dict[str, Handler]) -> None:
        self.host = host
        self.port = port
        self._routes = routes
        self._server: asyncio.Server | None = None

    def serve(self, routes: dict[str, Handler]) -> None:
        """Answer with ``routes`` from now on (the server keeps listening)."""
        self._routes = routes

    async def start(self) -> None:
        """Listen (port 0 picks a free port; :attr:`port` then tells which)."""
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            method, target, *_ = request.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
            path = target.split("?", 1)[0]
            handler = self._routes.get(path)
            if handler is None:
                response = json_response(
                    404, {"error": f"no such endpoint {path}", "endpoints": sorted(self._routes)}
                )
            elif method not in ("GET", "HEAD"):
                response = json_response(405, {"error": "use GET"})
            else:
                try:
                    response = await handler()
                except Exception as error:
                    response = json_response(500, {"error": f"{type(error).__name__}: {error}"})
            status, content_type, body = response
            head = (
                f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\n"
                f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            ).encode()
            writer.write(head if method == "HEAD" else head + body)
            await writer.drain()
        except (
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            TimeoutError,
            ConnectionError,
            ValueError,
        ):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
