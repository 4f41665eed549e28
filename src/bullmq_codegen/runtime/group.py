"""The workers of an application: one BullMQ worker per selected queue."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .connection import is_connection_error
from .routes import JobRoute
from .schedules import (
    ScheduleError,
    ScheduleSync,
    declared_schedules,
    remove_moved_schedules,
    sync_schedules,
)
from .worker.events import WorkerListener
from .worker.queue_worker import CloseResult, QueueWorker
from .worker.settings import QueueWorkerSettings, RouteSettings

if TYPE_CHECKING:
    from .registry import Runtime

__all__ = ["WorkerGroup", "select_routes"]

_REDIS_PATIENCE = 30.0
"""Seconds :meth:`WorkerGroup.start` retries the job schedulers' sync while Redis is unreachable."""


def select_routes(
    routes: Sequence[JobRoute[Any, Any, Any]],
    *,
    queues: Collection[str] = (),
    workers: Collection[str] = (),
    moved: Mapping[str, str] | None = None,
    exact: bool = False,
) -> dict[str, list[JobRoute[Any, Any, Any]]]:
    """Queue name → the routes its worker runs, for every route or for the queues and workers
    named.

    A BullMQ worker takes every job of its queue, so a process runs all the
    workers of a queue or none of them: naming some workers of a queue but not
    the others is refused (otherwise their jobs would fail as unknown here).

    ``moved`` maps a job name to the queue it moved from (``movedFrom``): the
    worker of that former queue runs its route too, so the jobs still there are
    not lost. A former queue that keeps workers of its own runs where they are
    selected; one left with none runs wherever a moved job name's queue does
    (unless ``exact``: then only the queues named run).
    """
    moved = moved or {}
    by_queue: dict[str, list[JobRoute[Any, Any, Any]]] = {}
    for route in routes:
        by_queue.setdefault(route.queue, []).append(route)
    drains: dict[str, list[JobRoute[Any, Any, Any]]] = {}
    for route in routes:
        if route.name in moved:
            drains.setdefault(moved[route.name], []).append(route)
    known_workers = {route.name: route.queue for route in routes}
    unknown = [name for name in queues if name not in by_queue and name not in drains]
    unknown += [name for name in workers if name not in known_workers]
    if unknown:
        served = sorted({*by_queue, *drains})
        raise ValueError(
            f"unknown queue or worker names: {', '.join(map(repr, unknown))} "
            f"(queues: {', '.join(served)}; workers: {', '.join(sorted(known_workers))})"
        )
    everything = not queues and not workers
    chosen = set(by_queue) | set(drains) if everything else set(queues)
    for name in workers:
        queue = known_workers[name]
        if queue in chosen:
            continue
        missing = sorted(route.name for route in by_queue[queue] if route.name not in workers)
        if missing:
            raise ValueError(
                f"worker {name!r} shares queue {queue!r} with {', '.join(map(repr, missing))}: "
                f"a BullMQ worker takes every job of its queue, so run all of them "
                f"(select the queue {queue!r})"
            )
        chosen.add(queue)
    if not exact:
        chosen |= {
            former
            for former, moved_routes in drains.items()
            if former not in by_queue and any(route.queue in chosen for route in moved_routes)
        }
    return {queue: [*by_queue.get(queue, ()), *drains.get(queue, ())] for queue in sorted(chosen)}


class WorkerGroup:
    """The workers of the selected queues; started by :meth:`start` or ``async with``.

    ::

        async with create_workers() as workers:
            await workers.wait_closed()   # until close() (e.g. from a signal handler)
    """

    def __init__(
        self,
        runtime: Runtime,
        routes: Sequence[JobRoute[Any, Any, Any]],
        *,
        queues: Collection[str] = (),
        workers: Collection[str] = (),
        listeners: Sequence[WorkerListener] = (),
        heartbeat_interval: float = 10.0,
        exact: bool = False,
    ) -> None:
        self._runtime = runtime
        self._heartbeat_interval = heartbeat_interval
        self._selected = select_routes(
            routes,
            queues=queues,
            workers=workers,
            moved=runtime.config.moved_from(),
            exact=exact,
        )
        self._listeners = list(listeners)
        self._workers: dict[str, QueueWorker] = {}
        self._schedules: dict[str, ScheduleSync] = {}

    @property
    def queue_names(self) -> tuple[str, ...]:
        """The queues these workers take jobs from."""
        return tuple(self._selected)

    @property
    def workers(self) -> Mapping[str, QueueWorker]:
        """Queue name → its running worker (empty before :meth:`start`)."""
        return self._workers

    @property
    def schedules(self) -> Mapping[str, ScheduleSync]:
        """Queue name → what :meth:`start` did to its job schedulers."""
        return self._schedules

    def add_listener(self, listener: WorkerListener) -> None:
        """Tell ``listener`` what every worker of the group does (before or after start)."""
        self._listeners.append(listener)
        for worker in self._workers.values():
            worker.add_listener(listener)

    async def start(self) -> None:
        """Start every worker on the running event loop (returns once they are started).

        First the job schedulers their definitions declare are upserted, and
        those of their job names no longer declared removed (see
        :attr:`schedules`); a scheduler that cannot be written raises
        :class:`~.schedules.ScheduleError` naming it, and no worker starts.
        While Redis is unreachable this is retried for up to 30 seconds.
        """
        if self._workers:
            raise RuntimeError("these workers were already started")
        config = self._runtime.config
        for queue, routes in self._selected.items():
            own = [route.name for route in routes if route.queue == queue]
            self._schedules[queue] = await self._sync_schedules(queue, own)
        for queue, routes in self._selected.items():
            # a former queue's worker is its own workers' (or, with none left, the moved ones')
            deciding = [route for route in routes if route.queue == queue] or routes
            options = {
                route.name: config.worker(route.queue, route.name).get("options", {})
                for route in deciding
            }
            settings = QueueWorkerSettings.from_workers(options)
            worker = QueueWorker(
                ctx=self._runtime.worker_context(queue, settings.bullmq_opts()),
                blocking=self._runtime.blocking_client(queue),
                routes=[
                    (route, RouteSettings.from_definition(config.worker(route.queue, route.name)))
                    for route in routes
                ],
                settings=settings,
                listeners=self._listeners,
                heartbeat_interval=self._heartbeat_interval,
            )
            self._workers[queue] = worker
        self._runtime.register(self)
        for worker in self._workers.values():
            worker.start()

    async def _sync_schedules(self, queue: str, names: list[str]) -> ScheduleSync:
        """Upsert and remove ``queue``'s job schedulers, waiting a while for an unreachable Redis
        (a worker restarted while Redis restarts); any other error is raised at once.

        A job name that moved away keeps its scheduler here until its new queue has
        upserted one; then that queue's start removes this one (``movedFrom``).
        """
        config = self._runtime.config
        declared = declared_schedules(config, queue, names)
        moved = config.moved_from()
        moved_away = {name for name, former in moved.items() if former == queue}
        moved_here = {name: moved[name] for name in names if name in moved}
        deadline = time.monotonic() + _REDIS_PATIENCE
        delay = 0.1
        while True:
            try:
                done = await sync_schedules(
                    self._runtime.context(queue), declared, moved_away=moved_away
                )
                for name, former in moved_here.items():
                    await remove_moved_schedules(self._runtime.context(former), {name})
                return done
            except Exception as error:
                cause = error.__cause__ if isinstance(error, ScheduleError) else error
                unreachable = cause is not None and is_connection_error(cause)
                if not unreachable or time.monotonic() + delay > deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def wait_closed(self) -> None:
        """Wait until every worker has closed; a worker that failed raises here."""
        await asyncio.gather(*(worker.wait_closed() for worker in self._workers.values()))

    async def run(self) -> None:
        """Start the workers and process jobs until :meth:`close` is called."""
        await self.start()
        await self.wait_closed()

    async def close(self, *, timeout: float | None = None) -> list[CloseResult]:
        """Close every worker: running jobs get ``timeout`` seconds to finish (forever if ``None``)."""
        results = await asyncio.gather(
            *(worker.close(timeout=timeout) for worker in self._workers.values())
        )
        self._runtime.unregister(self)
        return list(results)

    async def __aenter__(self) -> WorkerGroup:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
