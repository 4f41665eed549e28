"""The Redis client names Node BullMQ gives its connections, so it can list ours.

Node's ``Queue.getWorkers()`` / ``getWorkersCount()`` and ``getQueueEvents()`` find
workers and event readers in ``CLIENT LIST`` by these names: a worker is
``<prefix>:<base64(queue)>`` (unnamed) or ``<prefix>:<base64(queue)>:w:<name>``, a
queue-events reader ``<prefix>:<base64(queue)>:qe``.
"""

from __future__ import annotations

import base64

__all__ = ["DEFAULT_WORKER_NAME", "events_client_name", "worker_client_name"]

DEFAULT_WORKER_NAME = "bullmq-codegen"
"""The name our workers go by when the definitions give none (Node lists it as named)."""


def _base(prefix: str, queue: str) -> str:
    return f"{prefix}:{base64.b64encode(queue.encode()).decode()}"


def worker_client_name(prefix: str, queue: str, name: str | None) -> str:
    """The client name of a worker of ``queue`` (its ``name`` option, or ours)."""
    return f"{_base(prefix, queue)}:w:{name or DEFAULT_WORKER_NAME}"


def events_client_name(prefix: str, queue: str) -> str:
    """The client name of ``queue``'s event-stream reader."""
    return f"{_base(prefix, queue)}:qe"
