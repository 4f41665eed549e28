"""The runner's event loop (:mod:`bullmq_codegen.runtime.event_loop`): timers, I/O and signals
behave as on asyncio's own loop; only the wait is finer. Its precision is a figure of
``bench/`` (the ~1 ms job rows), not asserted here."""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import socket
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from bullmq_codegen.runtime import event_loop
from bullmq_codegen.runtime.event_loop import PreciseSelector

T = TypeVar("T")


def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``main()`` run to its end by :func:`event_loop.run`."""
    return event_loop.run(main())


def test_the_loop_waits_on_the_precise_selector() -> None:
    async def selector() -> object:
        return getattr(asyncio.get_running_loop(), "_selector", None)

    assert isinstance(run(selector), PreciseSelector)


def test_timers_never_fire_early_and_fire_in_order() -> None:
    async def timers() -> list[tuple[int, float, float]]:
        loop = asyncio.get_running_loop()
        fired: list[tuple[int, float, float]] = []
        done = asyncio.Event()
        delays = [0.0003, 0.0001, 0.002, 0.0007, 0.0012, 0.0]
        for index, delay in enumerate(delays):
            due = loop.time() + delay

            def fire(index: int = index, due: float = due) -> None:
                fired.append((index, due, loop.time()))
                if len(fired) == len(delays):
                    done.set()

            loop.call_at(due, fire)
        await done.wait()
        return fired

    fired = run(timers)
    assert [index for index, _, _ in fired] == [5, 1, 0, 3, 4, 2]
    assert all(at >= due for _, due, at in fired)


def test_io_ends_a_wait_before_its_timeout() -> None:
    async def io() -> bytes:
        loop = asyncio.get_running_loop()
        reader, writer = socket.socketpair()
        reader.setblocking(False)
        received: asyncio.Future[bytes] = loop.create_future()

        def readable() -> None:
            if not received.done():
                received.set_result(reader.recv(16))

        loop.add_reader(reader, readable)
        loop.call_later(0.01, writer.send, b"ping")
        loop.call_later(60, lambda: None)  # a far timer: the wait has a timeout
        try:
            return await asyncio.wait_for(received, 30)
        finally:
            loop.remove_reader(reader)
            reader.close()
            writer.close()

    assert run(io) == b"ping"


def test_a_signal_ends_a_long_wait() -> None:
    async def wait_for_signal() -> bool:
        loop = asyncio.get_running_loop()
        got = asyncio.Event()
        loop.add_signal_handler(signal.SIGUSR1, got.set)
        try:
            loop.call_later(0.05, os.kill, os.getpid(), signal.SIGUSR1)
            await asyncio.wait_for(got.wait(), 30)
            return got.is_set()
        finally:
            loop.remove_signal_handler(signal.SIGUSR1)

    assert run(wait_for_signal) is True


def test_a_timeout_with_nothing_ready_returns_nothing() -> None:
    selector = PreciseSelector()
    try:
        reader, writer = socket.socketpair()
        selector.register(reader, 1)  # EVENT_READ
        assert selector.select(0.001) == []
        writer.send(b"x")
        ready = selector.select(5)
        assert [key.fileobj for key, _ in ready] == [reader]
        reader.close()
        writer.close()
    finally:
        selector.close()


def test_it_is_the_threads_event_loop_while_it_runs() -> None:
    # as asyncio.run's: code asking the policy (a child watcher, get_event_loop()) finds it
    async def policy_loop() -> bool:
        return asyncio.get_event_loop_policy().get_event_loop() is asyncio.get_running_loop()

    assert run(policy_loop) is True


@pytest.fixture
def descriptors_past_select() -> Iterator[None]:
    """1,100 descriptors open, so the next one (the loop's epoll) is past ``select``'s limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 1200
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"the hard limit of open files is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    null = os.open(os.devnull, os.O_RDONLY)
    opened = [os.dup(null) for _ in range(1100)]
    try:
        yield
    finally:
        for descriptor in [null, *opened]:
            os.close(descriptor)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.usefixtures("descriptors_past_select")
def test_past_selects_limit_it_waits_as_asyncio_does() -> None:
    async def sleep() -> tuple[int, float]:
        selector = getattr(asyncio.get_running_loop(), "_selector")  # noqa: B009
        started = time.monotonic()
        await asyncio.sleep(0.002)
        return selector.fileno(), time.monotonic() - started

    epoll, slept = run(sleep)
    assert epoll >= 1024
    assert slept >= 0.002
