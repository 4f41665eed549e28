"""Noticing an event loop that stops turning: a processor that blocks it (``time.sleep`` or CPU
work in an ``async def``) stops every other job, lock renewal and heartbeat of the process.

A tick on the loop notes each turn and measures the lag (how late a timer fires);
a thread of its own watches the ticks, so a block is told *while* it lasts,
naming the jobs that were running and where the loop thread is stuck. A block
past ``at_risk`` seconds is told as an error: the locks of the running jobs may
expire, and another worker run them. When the loop turns again, the block is
counted (:attr:`LoopWatch.blocks`, :attr:`LoopWatch.blocked_seconds`) and kept as
:attr:`LoopWatch.last_block`.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from .events import JobInfo

__all__ = ["LoopBlock", "LoopWatch", "blocked_thresholds"]

_LAG_WINDOW = 10.0
"""Seconds over which :attr:`LoopWatch.lag` is the largest lag measured."""


def blocked_thresholds(locks: Iterable[tuple[int, int]]) -> tuple[float, float]:
    """``(blocked, at_risk)`` in seconds for workers whose ``(lockDuration, lockRenewTime)``
    are ``locks`` (milliseconds; BullMQ's defaults when there are none).

    A loop still for a second (or a quarter of the shortest ``lockDuration``, when
    shorter) is blocked. A lock is renewed when older than ``lockRenewTime / 2``, at
    the latest ``lockRenewTime`` after it was taken, so a lock always has
    ``lockDuration - lockRenewTime`` left: a block longer than that may let it expire.
    """
    pairs = list(locks) or [(30_000, 15_000)]
    blocked = min(1.0, min(duration for duration, _ in pairs) / 4000)
    at_risk = min(duration - renew for duration, renew in pairs) / 1000
    return blocked, max(at_risk, blocked)


@dataclass(frozen=True, slots=True)
class LoopBlock:
    """One time the event loop stopped turning."""

    seconds: float
    """How long it lasted (so far, while it lasts)."""
    jobs: tuple[JobInfo, ...]
    """The jobs running when it was noticed."""
    processors: tuple[str, ...]
    """Their processors, ``module.function``."""
    where: str
    """Where the loop's thread was: ``file:line in function``."""
    ended_at: float = field(default=0.0)
    """``time.monotonic()`` when the loop turned again (0 while it lasts)."""

    def describe(self) -> str:
        """The jobs, processors and place, for a log line."""
        jobs = ", ".join(
            f"{job.queue}/{job.name}/{job.id} ({processor})"
            for job, processor in zip(self.jobs, self.processors, strict=True)
        )
        return f"running: {jobs or 'no job'}; blocked at {self.where}"


class LoopWatch:
    """Watches the running event loop; see the module's docstring."""

    def __init__(
        self,
        *,
        blocked: float,
        at_risk: float,
        running: Callable[[], Iterable[JobInfo]],
        processors: Mapping[tuple[str, str], str],
        log: logging.Logger,
        on_block: Callable[[LoopBlock], None] = lambda block: None,
    ) -> None:
        """``blocked``, ``at_risk``: seconds (see :func:`blocked_thresholds`); ``running``: the
        jobs running now; ``processors``: the processor of each ``(queue, job name)``;
        ``on_block``: called on the loop with each block once it has ended."""
        self.blocked = blocked
        self.at_risk = at_risk
        self.blocks = 0
        self.blocked_seconds = 0.0
        self.last_block: LoopBlock | None = None
        self._running = running
        self._processors = processors
        self._log = log
        self._on_block = on_block
        self._tick = min(0.1, blocked / 4)
        self._guard = threading.Lock()
        self._beat = time.monotonic()
        self._current: LoopBlock | None = None
        self._warned_at_risk = False
        self._lag = [0.0, 0.0]  # the largest lag of this window and of the previous one
        self._window_start = self._beat
        self._stop = threading.Event()
        self._loop_thread = threading.get_ident()

    @property
    def lag(self) -> float:
        """The largest lag of the loop over the last ten seconds or so (seconds)."""
        return max(self._lag)

    def recently_blocked(self, within: float) -> bool:
        """Whether a block ended less than ``within`` seconds ago (or lasts)."""
        last = self.last_block
        return self._current is not None or (
            last is not None and time.monotonic() - last.ended_at < within
        )

    async def run(self) -> None:
        """Tick on the loop (and watch from a thread) until cancelled."""
        self._loop_thread = threading.get_ident()
        self._beat = time.monotonic()
        self._stop.clear()
        watcher = threading.Thread(
            target=self._watch, name="bullmq-codegen loop watch", daemon=True
        )
        watcher.start()
        try:
            while True:
                expected = time.monotonic() + self._tick
                await asyncio.sleep(self._tick)
                self._turned(max(time.monotonic() - expected, 0.0))
        finally:
            self._stop.set()

    def _turned(self, lag: float) -> None:
        now = time.monotonic()
        if now - self._window_start > _LAG_WINDOW:
            self._lag = [0.0, self._lag[0]]
            self._window_start = now
        self._lag[0] = max(self._lag[0], lag)
        with self._guard:
            self._beat = now
            block, self._current = self._current, None
            self._warned_at_risk = False
        if block is None:
            if lag >= self.blocked:  # unseen by the thread: starved, paused, or the GIL held
                self._log.warning(
                    "event loop lagged %.1f s (the process was paused or short of CPU, or code "
                    "held the GIL)",
                    lag,
                    extra={"lag_seconds": round(lag, 3)},
                )
            return
        ended = LoopBlock(
            seconds=max(lag, block.seconds),
            jobs=block.jobs,
            processors=block.processors,
            where=block.where,
            ended_at=now,
        )
        self.blocks += 1
        self.blocked_seconds += ended.seconds
        self.last_block = ended
        self._log.warning(
            "event loop was blocked for %.1f s: no other job ran and no lock was renewed "
            "meanwhile (%s)",
            ended.seconds,
            ended.describe(),
            extra={"blocked_seconds": round(ended.seconds, 3), **_fields(ended)},
        )
        self._on_block(ended)

    def _watch(self) -> None:
        """In the watching thread: tell a block as soon as it passes each threshold.

        A block is one this thread itself watched, look after look, for half the
        threshold or more: when the whole process stood still (paused, or starved of
        CPU), this thread's looks stop too, and the first look after finds an old
        beat though the loop turns again soon after.
        """
        beat_seen = self._beat
        first_seen = last_look = time.monotonic()
        while not self._stop.wait(self._tick):
            with self._guard:
                now = time.monotonic()
                regular = now - last_look < self.blocked / 2
                last_look = now
                if self._beat != beat_seen or not regular:
                    beat_seen, first_seen = self._beat, now
                still = now - self._beat
                if still < self.blocked or now - first_seen < self.blocked / 2:
                    continue
                first = self._current is None
                if first:
                    seen = self._snapshot(still)
                    if seen is None:  # the loop waits for I/O: the process was not running
                        self._beat = time.monotonic()
                        continue
                    self._current = seen
                at_risk = still >= self.at_risk and not self._warned_at_risk
                if at_risk:
                    self._warned_at_risk = True
                block = self._current
            assert block is not None
            if first:
                self._log.warning(
                    "event loop blocked for %.1f s so far: a processor is blocking it "
                    "(time.sleep, CPU work or blocking I/O in an async def?); %s",
                    still,
                    block.describe(),
                    extra={"blocked_seconds": round(still, 3), **_fields(block)},
                )
            if at_risk:
                self._log.error(
                    "event loop blocked for %.1f s: the locks of the running jobs may expire "
                    "(after %.1f s unrenewed) and another worker run them; %s",
                    still,
                    self.at_risk,
                    block.describe(),
                    extra={"blocked_seconds": round(still, 3), **_fields(block)},
                )

    def _snapshot(self, seconds: float) -> LoopBlock | None:
        """The jobs running and where the loop's thread is (read from another thread while
        the loop stands still); ``None`` when the loop's thread waits for I/O, not blocked."""
        frame = sys._current_frames().get(self._loop_thread)  # pyright: ignore[reportPrivateUsage]
        where = "unknown"
        if frame is not None:
            top = traceback.extract_stack(frame, limit=1)[-1]
            if top.filename.endswith("selectors.py"):
                return None
            where = f"{top.filename}:{top.lineno} in {top.name}"
        try:
            jobs = tuple(self._running())
        except RuntimeError:  # a dict changed under us: the loop moved on
            jobs = ()
        processors = tuple(self._processors.get((job.queue, job.name), "?") for job in jobs)
        return LoopBlock(seconds=seconds, jobs=jobs, processors=processors, where=where)


def _fields(block: LoopBlock) -> dict[str, object]:
    return {
        "job_ids": [job.id for job in block.jobs],
        "job_names": sorted({job.name for job in block.jobs}),
        "processors": sorted(set(block.processors)),
        "blocked_at": block.where,
    }
