"""Encoding Redis commands (RESP) fast, with the parts that never change encoded once.

A worker runs the same two scripts with the same queue keys for every job;
only the job's key and a few arguments differ. :class:`ScriptCommand` encodes
``EVALSHA``, the script's SHA and the queue's keys once, so each call encodes
just what varies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import cast

__all__ = ["Arg", "ScriptCommand", "encode_args", "hash_reply", "pack", "text_reply"]

Arg = bytes | str | int | float


def _bulk(value: Arg) -> bytes:
    if isinstance(value, bytes):
        data = value
    elif isinstance(value, str):
        data = value.encode()
    elif isinstance(value, bool):
        raise TypeError("a Redis argument cannot be a bool")
    elif isinstance(value, int):
        data = b"%d" % value
    else:
        data = repr(value).encode()
    return b"$%d\r\n%b\r\n" % (len(data), data)


def encode_args(values: Sequence[Arg]) -> bytes:
    """The RESP bulk strings of ``values``, concatenated (no array header)."""
    parts: list[bytes] = []
    for value in values:
        # the types of a worker's every call, without a function call each; others: _bulk
        if type(value) is str:
            data = value.encode()
        elif type(value) is bytes:
            data = value
        elif type(value) is int:
            data = b"%d" % value
        else:
            parts.append(_bulk(value))
            continue
        parts.append(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"".join(parts)


def pack(*args: Arg) -> bytes:
    """One command as a RESP array."""
    return b"*%d\r\n" % len(args) + encode_args(args)


class ScriptCommand:
    """``EVALSHA sha numkeys keys... args...`` with a fixed key layout around one varying key.

    ``before`` and ``after`` are the keys that do not change (a queue's keys);
    a call supplies the key between them (or none) and the arguments.
    """

    __slots__ = ("_after", "_before", "_count_base", "_head", "source")

    def __init__(
        self,
        *,
        sha: str,
        source: str,
        before: Sequence[str],
        varying: bool,
        after: Sequence[str] = (),
    ) -> None:
        self.source = source
        keys = len(before) + len(after) + (1 if varying else 0)
        self._head = encode_args(["EVALSHA", sha, keys])
        self._before = encode_args(before)
        self._after = encode_args(after)
        self._count_base = 3 + keys

    def packed(self, key: str | None, args: Sequence[Arg]) -> bytes:
        """The encoded command for the varying ``key`` (``None`` when there is none) and ``args``."""
        middle = _bulk(key) if key is not None else b""
        return b"".join(
            [
                b"*%d\r\n" % (self._count_base + len(args)),
                self._head,
                self._before,
                middle,
                self._after,
                encode_args(args),
            ]
        )


def hash_reply(reply: object) -> dict[str, str]:
    """A hash as Redis replies it (``HGETALL``, a stream entry's fields): a flat list of
    field, value... (RESP2) or a map (RESP3); an empty dict for anything else."""
    items: Iterable[tuple[object, object]]
    if isinstance(reply, dict):
        items = cast("dict[object, object]", reply).items()
    elif isinstance(reply, list):
        flat = cast("list[object]", reply)
        items = zip(flat[::2], flat[1::2], strict=True)
    else:
        return {}
    return {text_reply(field): text_reply(value) for field, value in items}


def text_reply(value: object) -> str:
    """A Redis reply as text (decoded when it came as bytes)."""
    return value.decode() if isinstance(value, bytes) else str(value)
