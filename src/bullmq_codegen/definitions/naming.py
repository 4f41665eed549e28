"""Queue and job names, and the Python names derived from them.

BullMQ names stay exactly as defined (``emailSend``, ``afterSignUpEmail``) so
Node services on the same queues interoperate; generated code derives its
Python identifiers from them (``email_send_queue``, ``enqueue_after_sign_up_email``).
"""

from __future__ import annotations

import keyword
import re

__all__ = ["NAME_PATTERN", "name_problem", "snake_case"]

NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,99}")
"""A queue or worker name: a letter, then letters, digits, ``_`` or ``-`` (100 at most)."""

_ACRONYM_BOUNDARY = re.compile(r"([A-Z]+)([A-Z][a-z])")
_WORD_BOUNDARY = re.compile(r"([a-z0-9])([A-Z])")
_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")


def snake_case(name: str) -> str:
    """``afterSignUpEmail`` → ``after_sign_up_email``; ``HTTPPing`` → ``http_ping``."""
    spaced = _SEPARATORS.sub("_", name)
    spaced = _ACRONYM_BOUNDARY.sub(r"\1_\2", spaced)
    spaced = _WORD_BOUNDARY.sub(r"\1_\2", spaced)
    return re.sub(r"_+", "_", spaced).strip("_").lower()


def name_problem(name: object, what: str) -> str | None:
    """Why ``name`` cannot name a queue or worker, or ``None`` when it can."""
    if not isinstance(name, str):
        return f"{what} name must be a string, not {type(name).__name__}"
    if NAME_PATTERN.fullmatch(name) is None:
        return (
            f"{what} name {name!r} is not valid: use a letter, then letters, digits, "
            "'_' or '-' (at most 100 characters)"
        )
    snake = snake_case(name)
    if keyword.iskeyword(snake) or keyword.issoftkeyword(snake):
        return (
            f"{what} name {name!r} is the Python keyword {snake!r}: generated code derives "
            "Python names from it, choose another name"
        )
    return None
