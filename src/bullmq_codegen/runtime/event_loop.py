"""An asyncio event loop whose timers fire on time, not at the next whole millisecond.

On Linux, asyncio's selector loop waits for I/O with ``epoll_wait``, whose
timeout is whole milliseconds, rounded up: a timer due in 0.2 ms wakes the
loop up to 1 ms later, and every timer due within the same millisecond fires in
the same turn. A worker's ``await asyncio.sleep(0.001)`` then takes 1.25 to
1.6 ms, and its slots wake together, finish together and queue their
``moveToFinished`` calls behind each other in Redis.

:class:`PreciseSelector` waits the whole milliseconds of a timeout with
``epoll_wait`` as asyncio does (I/O that comes meanwhile is read by that one
call), then the rest, under a millisecond, with ``select`` on the epoll
descriptor, whose timeout is in microseconds: timers fire within tens of
microseconds of their time (the kernel's timer slack). The price: timers that
fired together in one turn now fire a few at a time, so a worker of short
sleeping jobs at low concurrency makes more turns and sends smaller batches to
Redis (docs/benchmarks.md has the figures). ``bullmq-codegen workers start``
runs on :func:`new_event_loop`; an application that runs the workers itself can
too, with :func:`run` (as ``asyncio.run``).

Elsewhere than Linux (kqueue already waits to the nanosecond) and when the
epoll descriptor is past ``select``'s limit, the loop is asyncio's own.
"""

from __future__ import annotations

import asyncio
import select
import selectors
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["PreciseSelector", "new_event_loop", "run"]

T = TypeVar("T")

_SELECT_LIMIT = 1024
"""``FD_SETSIZE``: ``select`` takes no descriptor at or above it."""


if hasattr(selectors, "EpollSelector"):

    class PreciseSelector(selectors.EpollSelector):
        """An epoll selector whose waits end within microseconds of their timeout."""

        def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
            """The ready descriptors, waiting at most ``timeout`` seconds (``None``: until one)."""
            if timeout is None or timeout <= 0 or self.fileno() >= _SELECT_LIMIT:
                return super().select(timeout)
            deadline = time.monotonic() + timeout
            whole_ms = int(timeout * 1000)
            if whole_ms:
                # epoll rounds up: just under the whole milliseconds is exactly them
                ready = super().select((whole_ms - 0.5) / 1000)
                if ready:
                    return ready
            rest = deadline - time.monotonic()
            if rest > 0:
                readable, _, _ = select.select([self.fileno()], [], [], rest)
                if not readable:
                    return []
            return super().select(0)

    def new_event_loop() -> asyncio.AbstractEventLoop:
        """A selector event loop on :class:`PreciseSelector`."""
        return asyncio.SelectorEventLoop(PreciseSelector())

else:  # pragma: no cover - not Linux: asyncio's loop already waits precisely enough
    PreciseSelector = selectors.DefaultSelector  # type: ignore[misc,assignment]

    def new_event_loop() -> asyncio.AbstractEventLoop:
        """asyncio's own event loop (its waits are already precise here)."""
        return asyncio.new_event_loop()


def run(main: Coroutine[Any, Any, T], *, debug: bool | None = None) -> T:
    """``asyncio.run(main)`` on a loop of :func:`new_event_loop`, set as the thread's event loop
    while it runs (as ``asyncio.run`` sets its own: child watchers and code calling
    ``asyncio.get_event_loop()`` find it)."""
    with asyncio.Runner(debug=debug, loop_factory=new_event_loop) as runner:
        asyncio.set_event_loop(runner.get_loop())
        try:
            return runner.run(main)
        finally:
            asyncio.set_event_loop(None)
