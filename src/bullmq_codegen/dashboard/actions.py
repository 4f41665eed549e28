"""The dashboard's actions on queues and jobs, each with the question it asks first and the
sentence that says what it did.

Every action is the runtime's own queue control (BullMQ's scripts, as Node's
``job.retry()``, ``job.promote()``, ``queue.remove()``, ``clean``, ``pause``,
``resume``, ``retryJobs`` and ``promoteJobs`` run them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, get_args

from ..runtime.control import CleanableState
from ..runtime.queue import QueueHandle

__all__ = ["ACTIONS", "CLEANABLE", "Action", "ActionRequest"]

CLEANABLE: tuple[CleanableState, ...] = get_args(CleanableState)
"""The states a queue can be cleaned of."""


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """What an action is asked to act on: a queue, and a job or a state where it needs one."""

    queue: QueueHandle
    job_id: str = ""
    state: CleanableState = "completed"


@dataclass(frozen=True, slots=True)
class Action:
    """One action: what it acts on, its button, its question, and how it runs."""

    key: str
    scope: Literal["job", "queue"]
    label: str
    question: Callable[[ActionRequest], str]
    """The confirmation question, naming exactly what will change."""
    run: Callable[[ActionRequest], Awaitable[str]]
    """Does it; returns what was done."""


async def _retry(request: ActionRequest) -> str:
    await request.queue.retry_job(request.job_id)
    return f"Job {request.job_id} moved from failed back to waiting; a worker will run it again."


async def _promote(request: ActionRequest) -> str:
    await request.queue.promote_job(request.job_id)
    return f"Job {request.job_id} moved from delayed to waiting: it runs now, not later."


async def _remove(request: ActionRequest) -> str:
    await request.queue.remove_job(request.job_id)
    return f"Job {request.job_id} removed, with its data, logs and children."


async def _retry_all(request: ActionRequest) -> str:
    moved = await request.queue.retry_failed()
    return f"{moved} failed job(s) of queue {request.queue.name} moved back to waiting."


async def _promote_all(request: ActionRequest) -> str:
    moved = await request.queue.promote_all()
    return f"{moved} delayed job(s) of queue {request.queue.name} moved to waiting: they run now."


async def _clean(request: ActionRequest) -> str:
    removed = await request.queue.clean(request.state, grace_ms=0)
    return f"{len(removed)} {request.state} job(s) of queue {request.queue.name} removed."


async def _pause(request: ActionRequest) -> str:
    await request.queue.pause()
    return f"Queue {request.queue.name} paused: workers take no new job until it is resumed."


async def _resume(request: ActionRequest) -> str:
    await request.queue.resume()
    return f"Queue {request.queue.name} resumed: workers take its jobs again."


_ALL = (
    Action(
        "retry",
        "job",
        "Retry",
        lambda r: f"Move failed job {r.job_id} of queue {r.queue.name} back to waiting?",
        _retry,
    ),
    Action(
        "promote",
        "job",
        "Promote",
        lambda r: f"Run delayed job {r.job_id} of queue {r.queue.name} now?",
        _promote,
    ),
    Action(
        "remove",
        "job",
        "Remove",
        lambda r: (
            f"Remove job {r.job_id} of queue {r.queue.name}, its data and logs? "
            "This cannot be undone."
        ),
        _remove,
    ),
    Action(
        "retry-all",
        "queue",
        "Retry all failed",
        lambda r: f"Move every failed job of queue {r.queue.name} back to waiting?",
        _retry_all,
    ),
    Action(
        "promote-all",
        "queue",
        "Promote all delayed",
        lambda r: f"Run every delayed job of queue {r.queue.name} now?",
        _promote_all,
    ),
    Action(
        "clean",
        "queue",
        "Clean",
        lambda r: f"Remove every {r.state} job of queue {r.queue.name}? This cannot be undone.",
        _clean,
    ),
    Action(
        "pause",
        "queue",
        "Pause",
        lambda r: f"Pause queue {r.queue.name} for every worker?",
        _pause,
    ),
    Action(
        "resume",
        "queue",
        "Resume",
        lambda r: f"Resume queue {r.queue.name}?",
        _resume,
    ),
)

ACTIONS: dict[str, Action] = {action.key: action for action in _ALL}
"""Every action by its key (the last part of its URL)."""
