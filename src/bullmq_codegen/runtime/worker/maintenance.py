"""The two background duties of a BullMQ worker: renewing locks, recovering stalled jobs."""

from __future__ import annotations

import asyncio
import contextlib
import time
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


class _Hold:
    """One job's lock as this worker holds it: its token, and when it was last taken or renewed."""

    __slots__ = ("since", "token")

    def __init__(self, token: str, since: float) -> None:
        self.token = token
        self.since = since


class LockKeeper:
    """Keeps the locks of the jobs this worker runs; reports the ones it lost.

    While a job's lock is held, no other worker takes it; a job whose lock
    expires (its process died or hung) is put back to wait by a stalled check.
    As Node BullMQ's lock manager does, each ``lockRenewTime / 2`` it renews the
    locks held longer than ``lockRenewTime / 2`` (a job taken a moment ago has a
    fresh lock), and a job stops being tracked as soon as its processor is done,
    before it is finished in Redis (which releases the lock). A renewal Redis
    refuses is reported only for the jobs still tracked under the same hold when
    the answer comes: a job that finished meanwhile did not lose its lock.
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
        self._holds: dict[str, _Hold] = {}

    def track(self, job_id: str, token: str) -> None:
        """Renew ``job_id``'s lock (taken just now with ``token``) until :meth:`untrack`."""
        self._holds[job_id] = _Hold(token, time.monotonic())

    def untrack(self, job_id: str) -> None:
        """Stop renewing ``job_id``'s lock (its processor is done, or it is no longer ours)."""
        self._holds.pop(job_id, None)

    async def run(self, stop: asyncio.Event) -> None:
        """Renew the locks that need it each ``lockRenewTime / 2``, until ``stop`` is set."""
        interval = self._settings.lock_renew_time / 2000
        while not await stopped_within(stop, interval):
            if self._holds:
                await self.renew(older_than=interval)

    async def renew(self, *, older_than: float = 0.0) -> None:
        """Renew, in one script call, the locks taken or renewed more than ``older_than``
        seconds ago."""
        now = time.monotonic()
        due = [
            (job_id, hold) for job_id, hold in self._holds.items() if now - hold.since > older_than
        ]
        if not due:
            return
        for _, hold in due:
            hold.since = now
        try:
            failed: Any = await self._ctx.commands["extendLocks"](
                keys=[self._ctx.keys["stalled"]],
                args=[
                    self._ctx.keys[""],
                    msgpack.packb([hold.token for _, hold in due], use_bin_type=True),
                    msgpack.packb([job_id for job_id, _ in due], use_bin_type=True),
                    self._settings.lock_duration,
                ],
            )
        except Exception as error:
            self._on_error(error)
            return
        sent = dict(due)
        lost = [
            job_id
            for job_id in (str(failed_id) for failed_id in failed or ())
            if job_id in sent and self._holds.get(job_id) is sent[job_id]
        ]
        if lost:
            for job_id in lost:  # told once: it is no longer ours to renew
                del self._holds[job_id]
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
