"""Custom backoff: the delay before a retry, asked of the worker's ``backoffStrategy``.

BullMQ computes ``fixed`` and ``exponential`` delays itself, but for ``jitter``,
which bullmq-py ignores: those are drawn here as Node's BullMQ draws them. For any other
``backoff.type`` a Node worker calls its ``settings.backoffStrategy``; ours
calls the ``backoffStrategy`` of the job name's worker definition, with the
typed job. Its answer is a delay in milliseconds (``0`` retries at once) or
``-1``, which fails the job for good now with the error it failed with.
"""

from __future__ import annotations

import inspect
import math
import random
from typing import Any, cast

from ...definitions.shapes import BackoffStrategy
from ...definitions.worker_checks import BUILTIN_BACKOFFS
from ...job import Job

__all__ = ["BackoffError", "custom_backoff_delay"]


class BackoffError(Exception):
    """No delay could be had for a custom backoff type: the job fails for good."""


async def custom_backoff_delay(
    strategy: BackoffStrategy | None,
    backoff: object,
    attempts_made: int,
    error: BaseException,
    job: Job[Any, Any],
) -> int | None:
    """The delay ``strategy`` gives a job whose options say ``backoff``, or a built-in type's
    jittered delay; ``None`` when BullMQ computes it (a built-in type without jitter, or no
    backoff).

    ``attempts_made`` counts the attempt that just failed, as BullMQ passes it.
    Raises :class:`BackoffError` saying why when there is no strategy, the
    strategy raises, or its answer is not a whole number of milliseconds or -1.
    """
    if not isinstance(backoff, dict):
        return None
    options = cast("dict[str, object]", backoff)
    kind = options.get("type")
    if kind in BUILTIN_BACKOFFS:
        return _jittered(options, attempts_made)
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


def _jittered(backoff: dict[str, object], attempts_made: int) -> int | None:
    """A ``fixed`` or ``exponential`` delay with ``jitter``, drawn as Node's BullMQ draws it
    (bullmq-py ignores ``jitter``); ``None`` without jitter."""
    jitter = backoff.get("jitter")
    delay = backoff.get("delay")
    if not isinstance(jitter, int | float) or jitter <= 0 or not isinstance(delay, int | float):
        return None
    top = delay if backoff.get("type") == "fixed" else round(2 ** (attempts_made - 1) * delay)
    return math.floor(random.random() * top * jitter + top * (1 - jitter))
