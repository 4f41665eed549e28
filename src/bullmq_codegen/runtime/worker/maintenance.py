"""The two background duties of a BullMQ worker: renewing locks, recovering stalled jobs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import msgpack

from ..queue_context import QueueContext
from .settings import QueueWorkerSettings

__all__ = ["LockKeeper", "StalledChecker", "stopped_within"]


async def stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    """Wait ``seconds`` or until ``stop`` is set; whether it is.

    The loops end on an event rather than by cancellation: a cancellation that
    lands inside a Redis call can be swallowed by the client, and a loop that
    missed it would run on after its worker closed.
    """
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()


class LockKeeper:
    """Keeps the locks of the jobs this worker runs; reports the ones it could not renew.

    While a job's lock is held, no other worker takes it; a job whose lock
    expires (its process died or hung) is put back to wait by a stalled check.
    """

    def __init__(
        self,
        ctx: QueueContext,
        settings: QueueWorkerSettings,
        on_lost: Callable[[Sequence[str]], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        self._ctx = ctx
        self._settings = settings
        self._on_lost = on_lost
        self._on_error = on_error
        self.tokens: dict[str, str] = {}

    def track(self, job_id: str, token: str) -> None:
        """Renew ``job_id``'s lock until :meth:`untrack`."""
        self.tokens[job_id] = token

    def untrack(self, job_id: str) -> None:
        """Stop renewing ``job_id``'s lock (it finished, or is no longer ours)."""
        self.tokens.pop(job_id, None)

    async def run(self, stop: asyncio.Event) -> None:
        """Renew every tracked lock each ``lockRenewTime / 2``, until ``stop`` is set."""
        interval = self._settings.lock_renew_time / 2000
        while not await stopped_within(stop, interval):
            if self.tokens:
                await self.renew()

    async def renew(self) -> None:
        """Renew every tracked lock now, in one script call."""
        job_ids = list(self.tokens)
        tokens = [self.tokens[job_id] for job_id in job_ids]
        try:
            failed: Any = await self._ctx.commands["extendLocks"](
                keys=[self._ctx.keys["stalled"]],
                args=[
                    self._ctx.keys[""],
                    msgpack.packb(tokens, use_bin_type=True),
                    msgpack.packb(job_ids, use_bin_type=True),
                    self._settings.lock_duration,
                ],
            )
        except Exception as error:
            self._on_error(error)
            return
        lost = [str(job_id) for job_id in failed or ()]
        if lost:
            self._on_lost(lost)


class StalledChecker:
    """Moves the queue's stalled jobs (lock expired while active) back to wait, or fails them
    once they stalled more than ``maxStalledCount`` times."""

    def __init__(
        self,
        ctx: QueueContext,
        settings: QueueWorkerSettings,
        on_stalled: Callable[[Sequence[str]], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        self._ctx = ctx
        self._settings = settings
        self._on_stalled = on_stalled
        self._on_error = on_error

    async def run(self, stop: asyncio.Event) -> None:
        """Check now, then every ``stalledInterval``, until ``stop`` is set."""
        while not stop.is_set():
            await self.check()
            await stopped_within(stop, self._settings.stalled_interval / 1000)

    async def check(self) -> None:
        """One stalled-jobs check (BullMQ's script makes it run once per interval per queue)."""
        try:
            stalled: Any = await self._ctx.backend.scripts.moveStalledJobsToWait(
                self._settings.max_stalled_count, self._settings.stalled_interval
            )
        except Exception as error:
            self._on_error(error)
            return
        job_ids = [str(job_id) for job_id in stalled or ()]
        if job_ids:
            self._on_stalled(job_ids)
