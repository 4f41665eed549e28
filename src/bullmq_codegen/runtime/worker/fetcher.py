"""Taking jobs into ``active``: the same protocol as BullMQ's Node worker.

While jobs are waiting, ``moveToActive`` takes one per round trip. When the
queue is drained, the fetcher blocks on the queue's marker (``BZPOPMIN``) until
a job is added or the next delayed job is due; while the queue's rate limit is
reached it sleeps for exactly the limiter's remaining time (bullmq-py 3.4.4
stores that time but then waits ``drainDelay`` instead).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeGuard

import msgpack
from redis.asyncio import Redis

from ..connection import MAX_BLOCK_SECONDS, is_connection_error
from ..queue_context import QueueContext
from ..resp import pack
from .settings import QueueWorkerSettings

__all__ = ["JobFetcher", "RawJob", "parse_next_job"]

_MIN_BLOCK_SECONDS = 0.001


@dataclass(frozen=True, slots=True)
class RawJob:
    """A job just moved to ``active``: its id and its hash fields as stored."""

    id: str
    fields: dict[str, str]


def now_ms() -> int:
    """The time in milliseconds since the epoch, as BullMQ's scripts count it."""
    return int(time.time() * 1000)


def _is_list(value: object) -> TypeGuard[list[Any]]:
    return isinstance(value, list)


def parse_next_job(raw: object) -> tuple[RawJob | None, int, int]:
    """``(job, rate-limit delay ms, next delayed job timestamp ms)`` from a fetching script."""
    if not _is_list(raw) or not raw:
        return None, 0, 0
    values = raw
    limit_delay = int(values[2] or 0) if len(values) > 2 else 0
    delay_until = int(values[3] or 0) if len(values) > 3 else 0
    pairs = values[0]
    if not _is_list(pairs) or not pairs:
        return None, limit_delay, delay_until
    flat = iter(pairs)  # field, value, field, value...: an odd count raises, as a stray field
    fields: dict[str, str] = dict(zip(flat, flat, strict=True))
    return RawJob(str(values[1]), fields), limit_delay, delay_until


class JobFetcher:
    """Hands out the next job of one queue, or ``None`` once interrupted or stopped."""

    def __init__(
        self,
        ctx: QueueContext,
        blocking: Redis,
        settings: QueueWorkerSettings,
        report_error: Callable[[BaseException], None],
    ) -> None:
        self._ctx = ctx
        self._blocking = blocking
        self._settings = settings
        self._report_error = report_error
        self._limiter = dict(settings.limiter) if settings.limiter is not None else None
        self._drained = False
        self._limit_until = 0.0
        self._block_until = 0
        self._wake = asyncio.Event()
        self._stopped = False
        self._waiting: asyncio.Task[Any] | None = None
        self._unblocking: asyncio.Task[None] | None = None
        self._client_id: int | None = None
        """Redis's id of the blocking connection (``CLIENT ID``), to unblock its wait; asked
        again after an error (the connection may have been replaced, and ids restart with
        Redis: unblocking a stale one could end another client's wait)."""

    def note(self, job_found: bool, limit_delay: int, delay_until: int) -> None:
        """Record what a fetching script answered (``moveToActive`` or a completion)."""
        if job_found and not (limit_delay or delay_until or self._limit_until or self._block_until):
            self._drained = False  # a job and nothing else, as while a backlog is worked off
            return
        self._drained = not job_found
        loop_time = asyncio.get_running_loop().time()
        # capped as Node's worker caps it, so delayed jobs are promoted while rate limited
        limit_delay = min(limit_delay, self._settings.maximum_rate_limit_delay)
        self._limit_until = loop_time + limit_delay / 1000 if limit_delay > 0 else 0.0
        self._block_until = max(delay_until, 0)

    def interrupt(self) -> None:
        """Make the current (or next) wait return ``None`` at once."""
        self._wake.set()
        if self._waiting is not None:
            self._abandon(self._waiting)

    def _abandon(self, waiting: asyncio.Task[Any]) -> None:
        """Cancel a blocking wait, and make sure Redis ends it too (see :meth:`_unblock`)."""
        waiting.cancel()
        if self._client_id is not None and self._unblocking is None:
            self._unblocking = asyncio.get_running_loop().create_task(self._unblock(waiting))

    async def _unblock(self, waiting: asyncio.Task[Any]) -> None:
        """Unblock ``waiting`` from Redis's side if the cancellation did not end it.

        On Python 3.11 a cancellation that lands as redis-py finishes writing the
        command is lost (redis-py writes under ``asyncio.wait_for``, which swallows
        it; fixed in 3.12): the command then blocks until Redis answers, a whole
        block of up to 10 s (found by a test of closing right after starting).
        ``CLIENT UNBLOCK`` from the command connection makes Redis answer at once.
        """
        try:
            deadline = asyncio.get_running_loop().time() + MAX_BLOCK_SECONDS
            while asyncio.get_running_loop().time() < deadline:
                await asyncio.wait({waiting}, timeout=0.05)
                if waiting.done():
                    return
                with contextlib.suppress(Exception):
                    await self._ctx.pipeline.execute(
                        pack("CLIENT", "UNBLOCK", self._client_id or 0)
                    )
        finally:
            self._unblocking = None

    def stop(self) -> None:
        """Interrupt, and return ``None`` from every later call."""
        self._stopped = True
        self.interrupt()

    async def next(self, token: str) -> RawJob | None:
        """Move the next job to ``active`` under ``token``; wait as long as it takes."""
        if self._stopped:
            return None
        self._wake.clear()
        failures = 0
        while not self._wake.is_set():
            try:
                job = await self._attempt(token)
            except asyncio.CancelledError:
                if self._wake.is_set() and not _cancelling():
                    return None
                raise
            except Exception as error:
                self._client_id = None
                if self._wake.is_set():
                    return None
                self._report_error(error)
                failures += 1
                backoff = (
                    min(0.1 * 2 ** min(failures, 6), 5.0) if is_connection_error(error) else 1.0
                )
                await self._sleep(backoff * (0.5 + random.random() / 2))
                continue
            failures = 0
            if job is not None:
                return job
        return None

    async def _attempt(self, token: str) -> RawJob | None:
        if self._limit_until:
            remaining = self._limit_until - asyncio.get_running_loop().time()
            if remaining > 0:
                await self._sleep(remaining)
                if self._wake.is_set():
                    return None
        elif self._drained:
            await self._wait_for_job()
            if self._wake.is_set():
                return None
            if self._block_until and self._block_until - now_ms() >= 1:
                return None
        return await self.move_to_active(token)

    async def move_to_active(self, token: str) -> RawJob | None:
        """One ``moveToActive``: the next job, or ``None`` (drained, delayed or rate limited)."""
        opts: dict[str, Any] = {
            "token": token,
            "lockDuration": self._settings.lock_duration,
            "limiter": self._limiter,
        }
        if self._settings.name is not None:
            opts["name"] = self._settings.name
        script = self._ctx.move_to_active
        packed = script.packed(
            None, [self._ctx.keys[""], now_ms(), msgpack.packb(opts, use_bin_type=True)]
        )
        raw = await self._ctx.pipeline.run_script(script, packed)
        job, limit_delay, delay_until = parse_next_job(raw)
        self.note(job is not None, limit_delay, delay_until)
        return job

    async def _wait_for_job(self) -> None:
        timeout = self._block_timeout()
        if timeout is None:
            self._block_until = 0
            return
        if self._client_id is None:
            client_id: int = await self._blocking.client_id()  # pyright: ignore[reportUnknownMemberType]
            self._client_id = client_id
            if self._wake.is_set():  # interrupted meanwhile: do not start a wait
                return
        waiting = asyncio.ensure_future(self._blocking.bzpopmin(self._ctx.keys["marker"], timeout))
        self._waiting = waiting
        try:
            # Not ``await waiting``: a cancellation of this task would be handed to the wait,
            # and lost for good if it lands as the command is written (see _unblock).
            await asyncio.wait({waiting})
        except asyncio.CancelledError:
            self._abandon(waiting)
            raise
        finally:
            self._waiting = None
        result: Any = waiting.result()
        if not result:
            self._block_until = 0
            return
        score = int(float(result[2]))
        if not (self._block_until and score > self._block_until):
            self._block_until = score

    def _block_timeout(self) -> float | None:
        """Seconds to block: until the next delayed job, else ``drainDelay``; ``None``: don't."""
        if self._block_until:
            delay_ms = self._block_until - now_ms()
            if delay_ms <= 0:
                return None
            return min(max(delay_ms / 1000, _MIN_BLOCK_SECONDS), MAX_BLOCK_SECONDS)
        return min(max(self._settings.drain_delay, _MIN_BLOCK_SECONDS), MAX_BLOCK_SECONDS)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
