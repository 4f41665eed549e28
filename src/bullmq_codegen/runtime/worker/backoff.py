"""The delay before a job's retry, from its ``backoff`` option, as Node's BullMQ computes it.

BullMQ's built-in types, ``fixed`` and ``exponential`` (with ``jitter``, which
bullmq-py ignores), are computed here as Node computes them, and a bare number
is a fixed delay, as Node reads it. For any other ``backoff.type`` a Node worker
calls its ``settings.backoffStrategy``; ours calls the ``backoffStrategy`` of the
job name's worker definition, with the typed job. Its answer is a delay in
milliseconds (``0`` retries at once) or ``-1``, which fails the job for good now
with the error it failed with. A backoff no delay can be had of (a type without a
strategy, a value of no known shape) fails the job for good, saying why: bullmq-py
would raise while failing it, and the job would stall instead.
"""

from __future__ import annotations

import inspect
import math
import random
from typing import Any, cast

from ...definitions.shapes import BackoffStrategy
from ...definitions.worker_checks import BUILTIN_BACKOFFS
from ...job import Job

__all__ = ["BackoffError", "retry_delay"]


class BackoffError(Exception):
    """No delay could be had of a job's backoff: the job fails for good."""


async def retry_delay(
    strategy: BackoffStrategy | None,
    backoff: object,
    attempts_made: int,
    error: BaseException,
    job: Job[Any, Any],
) -> int | None:
    """Milliseconds before retrying a job whose options say ``backoff`` (``-1``: no retry);
    ``None`` without backoff (retried at once).

    ``attempts_made`` counts the attempt that just failed, as BullMQ passes it.
    Raises :class:`BackoffError` saying why when no delay can be had: a custom
    type without strategy, a strategy that raises or answers other than a whole
    number of milliseconds or -1, a value of no known shape.
    """
    if backoff is None:
        return None
    if _is_milliseconds(backoff):
        return round(cast("float", backoff))  # Node's shorthand for a fixed delay
    if not isinstance(backoff, dict):
        raise BackoffError(f"backoff {backoff!r} is neither milliseconds nor an object with a type")
    options = cast("dict[str, object]", backoff)
    kind = options.get("type")
    if kind in BUILTIN_BACKOFFS:
        return _builtin(options, attempts_made)
    where = f"worker {job.name!r} of queue {job.queue_name!r}"
    if strategy is None:
        raise BackoffError(
            f"backoff type {kind!r} needs a backoffStrategy, and {where} declares none"
        )
    try:
        # the strategy is user code: its answer is checked, whatever its annotation says
        answer = cast("object", strategy(attempts_made, str(kind), error, job))
        if inspect.isawaitable(answer):
            answer = await answer
    except Exception as failure:
        raise BackoffError(
            f"the backoffStrategy of {where} raised {type(failure).__name__}: {failure}"
        ) from failure
    if isinstance(answer, bool) or not isinstance(answer, int) or answer < -1:
        raise BackoffError(
            f"the backoffStrategy of {where} returned {answer!r}: it must return milliseconds "
            "(0 or more) or -1"
        )
    return answer


def _is_milliseconds(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _builtin(backoff: dict[str, object], attempts_made: int) -> int:
    """A ``fixed`` or ``exponential`` delay, with ``jitter`` drawn as Node's BullMQ draws it
    (no delay: 0, as Node reads it)."""
    delay = backoff.get("delay", 0)
    if not _is_milliseconds(delay):
        raise BackoffError(f"backoff {backoff!r}: its delay must be milliseconds (0 or more)")
    base = cast("float", delay)
    top = base if backoff.get("type") == "fixed" else round(2 ** (attempts_made - 1) * base)
    jitter = backoff.get("jitter")
    if not isinstance(jitter, int | float) or jitter <= 0:
        return round(top)
    return math.floor(random.random() * top * jitter + top * (1 - jitter))
