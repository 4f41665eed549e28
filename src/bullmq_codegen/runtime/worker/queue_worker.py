"""The one BullMQ worker of a queue in a process, dispatching each job by its name.

Several workers defined on one queue do not compete for each other's jobs:
one BullMQ worker takes the queue's jobs and runs each with the processor of
its name, each processor bounded by its own ``concurrency``. The loop that
takes jobs costs the same whatever the concurrency: a *dispatcher* takes a job
whenever a slot is free, and a slot whose job completes takes the next one in
the same round trip (BullMQ's fetch-next on completion).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from ..client_names import worker_client_name
from ..connection import is_connection_error
from ..health import Heartbeat, heartbeat_key, stale_heartbeats
from ..queue_context import QueueContext
from ..resp import pack
from ..routes import JobRoute
from ..schedule_jobs import ScheduleError, schedule_next_iteration
from .events import JobInfo, RouteStats, WorkerListener, WorkerState, notify
from .fetcher import JobFetcher, RawJob
from .maintenance import LockKeeper, StalledChecker, stopped_within
from .processing import JobRunner, Route
from .settings import QueueWorkerSettings, RouteSettings

__all__ = ["CloseResult", "QueueWorker"]

_MAINTENANCE_GRACE = 5.0
"""Seconds a closing worker waits for a lock renewal or stalled check under way."""
_SCHEDULE_TRIES = 4
"""Tries at adding a scheduler's next job when Redis is unreachable (0.05 + 0.2 + 0.8 s apart)."""


@dataclass(frozen=True, slots=True)
class CloseResult:
    """How a worker closed: ``graceful`` unless jobs were still running at the timeout."""

    queue: str
    graceful: bool
    abandoned: tuple[JobInfo, ...] = ()
    """Jobs left active; BullMQ's stalled check puts them back to wait once their lock expires."""


class QueueWorker:
    """Takes the jobs of one queue and runs each with the processor of its name."""

    def __init__(
        self,
        *,
        ctx: QueueContext,
        blocking: Redis,
        routes: Sequence[tuple[JobRoute[Any, Any, Any], RouteSettings]],
        settings: QueueWorkerSettings,
        listeners: Sequence[WorkerListener] = (),
        heartbeat_interval: float = 10.0,
    ) -> None:
        self.queue_name = ctx.name
        self.heartbeat_interval = heartbeat_interval
        self.started_at = int(time.time() * 1000)
        self.id = uuid.uuid4().hex
        self.settings = settings
        self._ctx = ctx
        self._blocking = blocking
        self._listeners: list[WorkerListener] = list(listeners)
        # one route is bounded by the worker's free slots: no semaphore of its own to pass
        self._routes = {
            route.name: Route(
                route,
                route_settings,
                asyncio.Semaphore(route_settings.concurrency) if len(routes) > 1 else None,
            )
            for route, route_settings in routes
        }
        self.concurrency = sum(route_settings.concurrency for _, route_settings in routes)
        self._fetcher = JobFetcher(ctx, blocking, settings, self._report_error)
        self._locks = LockKeeper(ctx, settings, self._report_lost_locks, self._report_error)
        self._stalled = StalledChecker(ctx, settings, self._report_stalled, self._report_error)
        self._runner = JobRunner(
            ctx=ctx,
            routes=self._routes,
            settings=settings,
            locks=self._locks,
            fetcher=self._fetcher,
            listeners=self._listeners,
        )
        self._free_slots = asyncio.Semaphore(self.concurrency)
        self._slots: set[asyncio.Task[None]] = set()
        self._main: asyncio.Task[None] | None = None
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._closing = False
        self._tokens = 0
        self.state = WorkerState.CREATED

    # -- life cycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start taking jobs on the running event loop (returns at once)."""
        if self._main is not None:
            raise RuntimeError(f"the worker of queue {self.queue_name!r} was already started")
        self._main = asyncio.get_running_loop().create_task(
            self._run(), name=f"bullmq-codegen worker {self.queue_name}"
        )

    async def wait_closed(self) -> None:
        """Wait until the worker has closed (after :meth:`close`, or a fatal error)."""
        if self._main is not None:
            await asyncio.shield(self._main)

    async def close(self, *, timeout: float | None = None) -> CloseResult:
        """Stop taking jobs, let running jobs finish, release the connection.

        After ``timeout`` seconds, running processors are cancelled: their jobs
        stay active until BullMQ's stalled check (any worker's) puts them back
        to wait, once their lock (``lockDuration``) expires.
        """
        self._closing = True
        self._resumed.set()
        self._fetcher.stop()
        if self.state in (WorkerState.RUNNING, WorkerState.PAUSED):
            self._set_state(WorkerState.CLOSING)
        if self._main is None:
            await self._release()
            self._set_state(WorkerState.CLOSED)
            return CloseResult(self.queue_name, graceful=True)
        done, _ = await asyncio.wait({self._main}, timeout=timeout)
        abandoned: tuple[JobInfo, ...] = ()
        if not done:
            abandoned = tuple(self._runner.running.values())
            for task in list(self._slots):
                task.cancel()
        if not (self._main.done() and self._main.cancelled()):
            with contextlib.suppress(Exception):  # a failed worker raises from wait_closed()
                await asyncio.shield(self._main)
        return CloseResult(self.queue_name, graceful=not abandoned, abandoned=abandoned)

    def pause(self) -> None:
        """Stop taking new jobs; running jobs go on. :meth:`resume` takes jobs again."""
        if not self._closing and self._resumed.is_set():
            self._resumed.clear()
            self._fetcher.interrupt()
            self._set_state(WorkerState.PAUSED)

    def resume(self) -> None:
        """Take jobs again after :meth:`pause`."""
        if not self._closing and not self._resumed.is_set():
            self._resumed.set()
            self._set_state(WorkerState.RUNNING)

    def add_listener(self, listener: WorkerListener) -> None:
        """Tell ``listener`` what this worker does from now on."""
        self._listeners.append(listener)
        self._runner.listeners_changed()

    def stats(self) -> dict[str, RouteStats]:
        """Counts per job name since the worker started."""
        return {name: route.stats for name, route in self._routes.items()}

    @property
    def running_jobs(self) -> tuple[JobInfo, ...]:
        """The jobs being processed right now."""
        return tuple(self._runner.running.values())

    # -- the loop -------------------------------------------------------------------------------

    async def _run(self) -> None:
        stop = asyncio.Event()
        duties = {"heartbeat": self._beat(stop)}
        if not self.settings.skip_lock_renewal:
            duties["locks"] = self._locks.run(stop)
        if not self.settings.skip_stalled_check:
            duties["stalled"] = self._stalled.run(stop)
        maintenance = [
            asyncio.create_task(duty, name=f"{name} {self.queue_name}")
            for name, duty in duties.items()
        ]
        self._set_state(WorkerState.RUNNING)
        try:
            await self._set_client_name()
            await self._dispatch()
            if self._slots:
                await asyncio.wait(self._slots)
        except BaseException as error:
            if not isinstance(error, asyncio.CancelledError):
                self._set_state(WorkerState.FAILED)
            for task in list(self._slots):
                task.cancel()
            raise
        finally:
            stop.set()
            _, late = await asyncio.wait(maintenance, timeout=_MAINTENANCE_GRACE)
            for task in late:  # stuck in a Redis call: the connection is closing anyway
                task.cancel()
            await self._release()
            if self.state is not WorkerState.FAILED:
                self._set_state(WorkerState.CLOSED)

    async def _dispatch(self) -> None:
        while not self._closing:
            if not self._resumed.is_set():
                await self._resumed.wait()
                continue
            await self._free_slots.acquire()
            if self._closing or not self._resumed.is_set():
                self._free_slots.release()
                continue
            self._tokens += 1
            token = f"{self.id}:{self._tokens}"
            job = await self._fetcher.next(token)
            if job is None:
                self._free_slots.release()
                continue
            task = asyncio.create_task(self._slot(job, token))
            self._slots.add(task)
            task.add_done_callback(self._slots.discard)

    async def _slot(self, job: RawJob, token: str) -> None:
        try:
            next_job: RawJob | None = job
            while next_job is not None:
                if "rjk" in next_job.fields:
                    await self._schedule_next(next_job)
                next_job = await self._runner.run(next_job, token, self._may_fetch_next)
        except Exception as error:  # the runner reports job errors itself; this is a bug
            self._report_error(error)
        finally:
            self._free_slots.release()

    async def _schedule_next(self, job: RawJob) -> None:
        """Add the next job of the scheduler that added ``job``, as Node's worker does on taking it.

        Retried on connection errors (briefly: the job's lock is running); a
        failure is reported to the listeners and the job is processed anyway.
        """
        delay = 0.05
        for attempt in range(_SCHEDULE_TRIES):
            try:
                await schedule_next_iteration(self._ctx, job.id, job.fields)
            except Exception as error:
                if is_connection_error(error) and attempt + 1 < _SCHEDULE_TRIES:
                    await asyncio.sleep(delay)
                    delay *= 4
                    continue
                scheduler = job.fields.get("rjk")
                problem = ScheduleError(
                    f"failed to add the next job of job scheduler {scheduler!r} "
                    f"(after job {job.id!r}): {error}"
                )
                problem.__cause__ = error
                self._report_error(problem)
            return

    async def _beat(self, stop: asyncio.Event) -> None:
        """Publish a heartbeat every ``heartbeat_interval`` seconds; remove it on close."""
        key = heartbeat_key(self._ctx)
        interval_ms = max(int(self.heartbeat_interval * 1000), 1)
        while True:
            try:
                beat = self.heartbeat()
                _, _, entries = await self._ctx.pipeline.execute_all(
                    [
                        pack("HSET", key, self.id, beat.to_json()),
                        pack("PEXPIRE", key, interval_ms * 10),
                        pack("HGETALL", key),
                    ]
                )
                stale = stale_heartbeats(entries, beat.heartbeat_at)
                if stale:  # processes killed without saying goodbye
                    await self._ctx.pipeline.execute(pack("HDEL", key, *stale))
            except Exception as error:
                self._report_error(error)
            if await stopped_within(stop, self.heartbeat_interval):
                break
        with contextlib.suppress(Exception):
            await self._ctx.pipeline.execute(pack("HDEL", key, self.id))

    def heartbeat(self) -> Heartbeat:
        """What this worker says about itself in Redis."""
        stats = [*self.stats().values(), self._runner.unrouted]
        return Heartbeat.here(
            worker_id=self.id,
            queue=self.queue_name,
            state=self.state.value,
            started_at=self.started_at,
            interval_ms=int(self.heartbeat_interval * 1000),
            job_names=sorted(self._routes),
            concurrency=self.concurrency,
            completed=sum(s.completed for s in stats),
            failed=sum(s.failed for s in stats),
            invalid_payloads=sum(s.invalid_payloads for s in stats),
            active=sum(s.active for s in stats),
        )

    def _may_fetch_next(self) -> bool:
        return not self._closing and self._resumed.is_set()

    async def _set_client_name(self) -> None:
        # Node's naming, so its Queue.getWorkers() lists this worker
        name = worker_client_name(self._ctx.prefix, self._ctx.redis_name, self.settings.name)
        try:
            await self._blocking.client_setname(name)  # pyright: ignore[reportUnknownMemberType]
        except Exception as error:
            self._report_error(error)

    async def _release(self) -> None:
        with contextlib.suppress(Exception):
            await self._blocking.aclose()

    # -- reporting ------------------------------------------------------------------------------

    def _set_state(self, state: WorkerState) -> None:
        self.state = state
        notify(self._listeners, lambda listener: listener.on_state(self.queue_name, state))

    def _report_error(self, error: BaseException) -> None:
        notify(self._listeners, lambda listener: listener.on_error(self.queue_name, error))

    def _report_stalled(self, job_ids: Sequence[str]) -> None:
        notify(self._listeners, lambda listener: listener.on_stalled(self.queue_name, job_ids))

    def _report_lost_locks(self, job_ids: Sequence[str]) -> None:
        notify(
            self._listeners,
            lambda listener: listener.on_lock_renewal_failed(self.queue_name, job_ids),
        )
