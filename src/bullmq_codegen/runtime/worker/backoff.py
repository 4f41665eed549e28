"""Custom backoff: the delay before a retry, asked of the worker's ``backoffStrategy``.

BullMQ computes ``fixed`` and ``exponential`` delays itself. For any other
``backoff.type`` a Node worker calls its ``settings.backoffStrategy``; ours
calls the ``backoffStrategy`` of the job name's worker definition, with the
typed job. Its answer is a delay in milliseconds (``0`` retries at once) or
``-1``, which fails the job for good now with the error it failed with.
"""

from __future__ import annotations

import inspect
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
    """The delay ``strategy`` gives a job whose options say ``backoff``, or ``None`` when
    its type is BullMQ's own (or there is no backoff).

    ``attempts_made`` counts the attempt that just failed, as BullMQ passes it.
    Raises :class:`BackoffError` saying why when there is no strategy, the
    strategy raises, or its answer is not a whole number of milliseconds or -1.
    """
    if not isinstance(backoff, dict):
        return None
    kind = cast("dict[str, object]", backoff).get("type")
    if kind in BUILTIN_BACKOFFS:
        return None
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
