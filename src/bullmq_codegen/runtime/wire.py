"""What jobs look like in Redis: JSON data and results, encoded option keys, retention.

Everything stored is JSON, as BullMQ (Node and Python) writes and reads it.
"""

from __future__ import annotations

import json
from typing import Any, cast

from pydantic import BaseModel

from ..definitions.options import JobOptions, RemoveOnFinish

__all__ = ["NotJSONError", "decode_opts", "encode_opts", "keep_jobs", "result_json"]

# bullmq stores a few option keys in a short form (Node and Python alike).
_SHORT_KEYS = {
    "failParentOnFailure": "fpof",
    "continueParentOnFailure": "cpof",
    "ignoreDependencyOnFailure": "idof",
    "removeDependencyOnFailure": "rdof",
    "keepLogs": "kl",
    "deduplication": "de",
}
_LONG_KEYS = {short: long for long, short in _SHORT_KEYS.items()}


class NotJSONError(TypeError):
    """A processor returned something that cannot be stored as JSON."""


def decode_opts(raw: str | None) -> JobOptions:
    """A job's stored ``opts`` field with its short keys expanded."""
    if not raw:
        return {}
    stored = cast("dict[str, Any]", json.loads(raw))
    items = stored.items()  # AttributeError when not an object
    if _LONG_KEYS.keys().isdisjoint(stored):
        return cast("JobOptions", stored)
    return cast("JobOptions", {_LONG_KEYS.get(key, key): value for key, value in items})


def encode_opts(opts: JobOptions) -> dict[str, Any]:
    """The job options as bullmq stores them: its defaults, backoff normalised, short keys."""
    stored: dict[str, Any] = {"attempts": 0, "delay": 0}
    for key, value in opts.items():
        stored[_SHORT_KEYS.get(key, key)] = value
    backoff = opts.get("backoff")
    stored["backoff"] = {"type": "fixed", "delay": backoff} if isinstance(backoff, int) else backoff
    return stored


def result_json(result: object) -> str:
    """The JSON a processor's result is stored as: a Pydantic model is dumped in JSON mode."""
    if isinstance(result, BaseModel):
        return result.model_dump_json(by_alias=True)
    try:
        return json.dumps(result, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise NotJSONError(
            f"the processor returned {type(result).__name__}, which is not JSON ({error}); "
            "return a Pydantic model, or None, a number, a string, a list or a dict of those"
        ) from error


def keep_jobs(remove: RemoveOnFinish | None) -> dict[str, int]:
    """BullMQ's ``keepJobs`` for a ``removeOnComplete``/``removeOnFail`` value."""
    if remove is True:
        return {"count": 0}
    if remove is None or remove is False:
        return {"count": -1}
    if isinstance(remove, int):
        return {"count": remove}
    kept: dict[str, int] = {}
    if "age" in remove:
        kept["age"] = remove["age"]
    if "count" in remove:
        kept["count"] = remove["count"]
    if "limit" in remove:
        kept["limit"] = remove["limit"]
    return kept
