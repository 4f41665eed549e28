"""An asyncio event loop whose timers fire on time, not at the next whole millisecond.

On Linux, asyncio's selector loop waits for I/O with ``epoll_wait``, whose
timeout is whole milliseconds, rounded up: a timer due in 0.2 ms wakes the
loop 1 ms later, and every timer due within the same millisecond fires in the
same turn. A processor's ``await asyncio.sleep(0.001)`` then takes about
1.5 ms, and the slots of a worker wake together, finish together and queue
their ``moveToFinished`` calls behind each other in Redis.

:class:`PreciseSelector` waits for the loop's epoll descriptor with ``select``,
whose timeout is in microseconds, then reads the ready events without waiting:
timers fire within tens of microseconds of their time, and a wait that I/O ends
early costs one more system call. ``bullmq-codegen workers start`` runs on
:func:`new_event_loop`; an application that runs the workers itself can too::

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(main())

Elsewhere than Linux (kqueue already waits to the nanosecond) and when the
epoll descriptor is past ``select``'s limit, the loop is asyncio's own.
"""

from __future__ import annotations

import asyncio
import select
import selectors

__all__ = ["PreciseSelector", "new_event_loop"]

_SELECT_LIMIT = 1024
"""``FD_SETSIZE``: ``select`` takes no descriptor at or above it."""


if hasattr(selectors, "EpollSelector"):

    class PreciseSelector(selectors.EpollSelector):
        """An epoll selector whose waits end within microseconds of their timeout."""

        def select(
            self, timeout: float | None = None
        ) -> list[tuple[selectors.SelectorKey, int]]:
            """The ready descriptors, waiting at most ``timeout`` seconds (``None``: until one)."""
            if timeout is not None and timeout > 0:
                epoll = self.fileno()
                if epoll < _SELECT_LIMIT:
                    readable, _, _ = select.select([epoll], [], [], timeout)
                    return super().select(0) if readable else []
            return super().select(timeout)

    def new_event_loop() -> asyncio.AbstractEventLoop:
        """A selector event loop on :class:`PreciseSelector`."""
        return asyncio.SelectorEventLoop(PreciseSelector())

else:  # pragma: no cover - not Linux: asyncio's loop already waits precisely enough

    PreciseSelector = selectors.DefaultSelector  # type: ignore[misc,assignment]

    def new_event_loop() -> asyncio.AbstractEventLoop:
        """asyncio's own event loop (its waits are already precise here)."""
        return asyncio.new_event_loop()
