"""A TCP proxy in front of a real Redis that changes what chosen commands' callers hear: a
``-LOADING`` reply (the command not run), or a connection closed before the reply (the
command run). Every other command and reply passes through unchanged."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from urllib.parse import urlsplit

from bullmq_codegen.runtime.resp import pack

_LOADING = b"-LOADING Redis is loading the dataset in memory\r\n"
_REFUSED = pack("LOADINGTEST")


async def _read_value(reader: asyncio.StreamReader) -> bytes:
    """One whole RESP2 or RESP3 value, as it came (a command or a reply)."""
    line = await reader.readuntil(b"\r\n")
    kind, rest = line[:1], line[1:-2]
    if kind in b"$=!":  # blob string, verbatim string, blob error
        size = int(rest)
        return line if size < 0 else line + await reader.readexactly(size + 2)
    if kind in b"*~>%|":  # array, set, push; map and attribute hold pairs
        count = max(int(rest), 0) * (2 if kind in b"%|" else 1)
        parts = [line]
        for _ in range(count):
            parts.append(await _read_value(reader))
        return b"".join(parts)
    return line  # one line: + - : _ , # (


class RedisProxy:
    """A TCP proxy to a real Redis that answers ``-LOADING`` to the commands it is told to
    refuse (``refuse``), and closes the client's connection in place of the reply of the
    commands it is told to (``drop_reply``: Redis ran them, their caller never hears)."""

    def __init__(self, redis_url: str) -> None:
        parts = urlsplit(redis_url)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self._server: asyncio.Server | None = None
        self.refuse: Callable[[bytes], bool] = lambda command: False
        self.refused: list[bytes] = []
        self.drop_reply: Callable[[bytes], bool] = lambda command: False
        self.dropped: list[bytes] = []
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        redis_in, redis_out = await asyncio.open_connection(*self._target)
        fates: asyncio.Queue[tuple[bool, bool, bytes]] = asyncio.Queue()  # per command, in order

        async def commands() -> None:
            while True:
                command = await _read_value(client_in)
                refuse = self.refuse(command)
                if refuse:
                    self.refused.append(command)
                await fates.put((refuse, not refuse and self.drop_reply(command), command))
                redis_out.write(_REFUSED if refuse else command)
                await redis_out.drain()

        async def replies() -> None:
            while True:
                reply = await _read_value(redis_in)
                refused, drop, command = await fates.get()
                if drop and not reply.startswith(b"-"):  # it ran (not a NOSCRIPT, say)
                    self.dropped.append(command)
                    return  # the connection closes with the reply unsent
                client_out.write(_LOADING if refused else reply)
                await client_out.drain()

        tasks = [asyncio.ensure_future(commands()), asyncio.ensure_future(replies())]
        with contextlib.suppress(Exception):
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for writer in (redis_out, client_out):
            writer.close()
