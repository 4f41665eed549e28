"""Checks of ``movedFrom``: a job name moved to another queue still drains the one it left."""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import Problem
from .shapes import QueueDefinition, WorkerDefinition

__all__ = ["drained_queues", "moved_problems"]


def moved_problems(queues: Mapping[str, QueueDefinition]) -> list[Problem]:
    """Why a worker's ``movedFrom`` cannot be served: not a queue name, or its own queue."""
    problems: list[Problem] = []
    for queue_name, queue in queues.items():
        for worker_name, worker in queue["workers"].items():
            former = worker.get("movedFrom")
            if former is None:
                continue
            if not former or ":" in former or former.strip() != former:
                message = (
                    f"{former!r} is not a BullMQ queue name (not empty, no ':', no "
                    "surrounding spaces)"
                )
            elif former == queue_name:
                message = (
                    f"names the worker's own queue {former!r}: movedFrom is the queue this "
                    "job name was in before"
                )
            else:
                continue
            problems.append(Problem(message, queue=queue_name, worker=worker_name, key="movedFrom"))
    return problems


def drained_queues(queues: Mapping[str, QueueDefinition]) -> dict[str, dict[str, WorkerDefinition]]:
    """Former queues left with no workers of their own → the moved workers that drain them."""
    found: dict[str, dict[str, WorkerDefinition]] = {}
    for queue in queues.values():
        for worker_name, worker in queue["workers"].items():
            former = worker.get("movedFrom")
            if former and former not in queues:
                found.setdefault(former, {})[worker_name] = worker
    return found
