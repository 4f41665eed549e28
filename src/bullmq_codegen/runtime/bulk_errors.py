"""Validating every payload of a bulk first, and naming each invalid one by its index."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from pydantic import ValidationError

from ..errors import BullMQCodegenError

__all__ = ["BulkValidationError", "check_all"]

T = TypeVar("T")
V = TypeVar("V")

_SHOWN = 20
"""Invalid items described in the message (all of them are in ``errors``)."""


class BulkValidationError(BullMQCodegenError, ValueError):
    """Some payloads of a bulk are invalid; nothing was enqueued.

    ``errors`` maps the index of every invalid payload to its error
    (``pydantic.ValidationError``, ``TypeError`` for a value of the wrong type,
    ``InvalidJobOptionsError`` when the worker's ``jobId``/deduplication function
    gave no id for it).
    """

    def __init__(self, where: str, total: int, errors: dict[int, Exception]) -> None:
        self.errors = errors
        self.total = total
        lines = [
            f"{len(errors)} of {total} payloads for {where} are invalid, nothing was enqueued:"
        ]
        for index, error in list(errors.items())[:_SHOWN]:
            detail = _describe(error)
            lines.append(f"  [{index}] {detail}")
        if len(errors) > _SHOWN:
            lines.append(f"  ... and {len(errors) - _SHOWN} more (see .errors)")
        super().__init__("\n".join(lines))


def _describe(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or '(payload)'}: {item['msg']}"
            for item in error.errors()
        )
    return str(error)


def check_all(items: Sequence[T], check: Callable[[T], V], where: str) -> list[V]:
    """``check(item)`` for every item, or :class:`BulkValidationError` naming every bad index."""
    results: list[V] = []
    errors: dict[int, Exception] = {}
    for index, item in enumerate(items):
        try:
            results.append(check(item))
        except (ValidationError, TypeError, ValueError) as error:
            errors[index] = error
    if errors:
        raise BulkValidationError(where, len(items), errors)
    return results
