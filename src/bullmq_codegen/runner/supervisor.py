"""Running the generated workers of a project in one process, for production.

One worker group per selected queue, so a worker that dies is restarted alone
(with backoff) while the others go on. SIGTERM or SIGINT stops taking jobs and
lets running ones finish within the graceful timeout; past it, or on a second
signal, the rest are abandoned to BullMQ's stalled-job check and the process
exits non-zero. Redis unreachable for longer than ``redis_timeout`` (at start
or later) is fatal: the process exits so its supervisor restarts it. The health
server, when a port is set, listens before Redis is waited for: live from the
first second, not ready until Redis answers and every worker runs.

Exit codes: 0 graceful, 1 fatal (Redis unreachable, a worker died without
auto-restart), 2 bad input (stale generated code, bad settings), 3 forced
shutdown (jobs were left running).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable, Sequence
from typing import Any

from redis.exceptions import (
    AskError,
    ClusterDownError,
    MovedError,
    RedisError,
    TryAgainError,
)

from ..runtime.cluster import is_cluster
from ..runtime.connection import certificate_refused, describe_connection, is_connection_error
from ..runtime.group import WorkerGroup, select_routes
from ..runtime.registry import Runtime
from ..runtime.resp import pack
from ..runtime.routes import JobRoute
from ..runtime.schedules import ScheduleError
from ..runtime.worker.events import JobInfo, WorkerListener, WorkerState
from ..runtime.worker.loop_watch import LoopBlock, LoopWatch, blocked_thresholds
from ..runtime.worker.maintenance import stopped_within
from ..runtime.worker.queue_worker import CloseResult
from .checks import production_checks
from .exits import EXIT_BAD_INPUT, EXIT_FATAL, EXIT_FORCED, EXIT_OK
from .http import Handler, HealthServer, Response, json_response
from .listeners import JobLogListener, JobTally, LoggingListener, Metrics, MetricsListener
from .logs import JOBS_LOGGER
from .settings import RunnerSettings

__all__ = ["EXIT_BAD_INPUT", "EXIT_FATAL", "EXIT_FORCED", "EXIT_OK", "WorkerRunner"]


_RESTART_BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
_REDIS_ANSWER_TIMEOUT = 2.0
"""Seconds a health endpoint waits for Redis (it may be down, or not up yet)."""
_STABLE_AFTER = 300.0
"""Seconds a restarted worker must run before its next death starts the backoff again."""
_BLOCK_MEMORY = 60.0
"""Seconds readiness fails after the event loop was blocked (a probe during the block gets no
answer at all)."""


_NOT_CLUSTERED = 'it is a Redis Cluster node; set "cluster": True in the definitions\' connection'
"""What a redirection on a connection without ``cluster`` means, and its fix."""


class _MovedSlotListener(WorkerListener):
    """A redirection reached a worker: the connection is no cluster connection but Redis is a
    cluster node, or the cluster kept redirecting past the router's limit. Fatal, saying which."""

    def __init__(self, fail: Callable[[str], None], clustered: bool) -> None:
        self._fail = fail
        self._clustered = clustered

    def on_error(self, queue: str, error: BaseException) -> None:
        if not isinstance(error, MovedError | AskError):
            return
        if self._clustered:
            self._fail(
                f"the Redis Cluster kept redirecting queue {queue!r} ({error}) past the "
                "router's limit: restart to read the cluster's slots afresh"
            )
        else:
            self._fail(f"Redis redirected queue {queue!r} ({error}): {_NOT_CLUSTERED}")


def _described(error: BaseException) -> str:
    """``error``'s kind and message, for a log line."""
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _start_failure(error: BaseException) -> str:
    """Why a queue's workers could not start, for the fatal log line."""
    if isinstance(error, ScheduleError):
        return str(error)
    if isinstance(error, MovedError | AskError):
        return f"Redis redirected it ({error}): {_NOT_CLUSTERED}"
    return f"Redis refused ({_described(error)})"


class WorkerRunner:
    """Runs the selected queues' workers until a signal, a fatal error, or :meth:`stop`."""

    def __init__(
        self,
        *,
        runtime: Runtime,
        routes: Sequence[JobRoute[Any, Any, Any]],
        settings: RunnerSettings,
        queues: Sequence[str] = (),
        workers: Sequence[str] = (),
        log: logging.Logger | None = None,
        extra_listeners: Sequence[WorkerListener] = (),
        health_server: HealthServer | None = None,
    ) -> None:
        self.runtime = runtime
        self.routes = list(routes)
        self.settings = settings
        self.queues = list(
            select_routes(
                self.routes, queues=queues, workers=workers, moved=runtime.config.moved_from()
            )
        )
        self.log = log or logging.getLogger("bullmq_codegen.runner")
        self.metrics = Metrics() if settings.health_port is not None else None
        """The Prometheus metrics ``/metrics`` serves (none without a health server)."""
        self._listeners: list[WorkerListener] = [
            LoggingListener(self.log),
            *([MetricsListener(self.metrics)] if self.metrics is not None else []),
            _MovedSlotListener(self._fail, clustered=is_cluster(self.runtime.config.connection)),
            *extra_listeners,
        ]
        self.tally = JobTally()
        self._listeners.append(self.tally)
        jobs_log = logging.getLogger(JOBS_LOGGER)
        if settings.log_jobs and jobs_log.isEnabledFor(logging.INFO):  # once, not per job
            self._listeners.append(JobLogListener(jobs_log))
        self.groups: dict[str, WorkerGroup] = {}
        self.restarts: dict[str, int] = dict.fromkeys(self.queues, 0)
        self._backoff: dict[str, int] = dict.fromkeys(self.queues, 0)
        self._started_at: dict[str, float] = {}
        self._stop = asyncio.Event()
        self._force = asyncio.Event()
        self._fatal: str | None = None
        self._redis_ok = True
        self._signals = 0
        self.health_server = health_server
        """Started by :meth:`run` when a health port is set, unless given already listening."""
        self.loop_watch: LoopWatch | None = None
        """Watches the event loop once the workers run (see :mod:`..runtime.worker.loop_watch`)."""

    # -- control --------------------------------------------------------------------------------

    def stop(self, *, force: bool = False) -> None:
        """Begin a graceful shutdown (``force``: abandon running jobs at once)."""
        self._stop.set()
        if force:
            self._force.set()

    def _on_signal(self, signum: int) -> None:
        self._signals += 1
        name = signal.Signals(signum).name
        if self._signals == 1:
            self.log.info(
                "%s: stopping; running jobs get %.0f s to finish (a second signal stops at once)",
                name,
                self.settings.graceful_shutdown_timeout,
            )
            self.stop()
        else:
            self.log.warning("%s again: stopping at once", name)
            self.stop(force=True)

    def _fail(self, reason: str) -> None:
        if self._fatal is None:
            self._fatal = reason
            self.log.critical("fatal: %s", reason)
        self.stop(force=True)

    # -- the run --------------------------------------------------------------------------------

    async def run(self) -> int:
        """Run until stopped; the process exit code."""
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(self._unhandled)
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, self._on_signal, signum)
        if self.settings.health_port is not None:
            # first, so probes get answers (live, not ready) while Redis is waited for
            try:
                await self._start_health_server()
            except OSError as error:
                self.log.error(
                    "cannot serve health on %s:%d: %s",
                    self.settings.health_host,
                    self.settings.health_port,
                    error,
                )
                await self.runtime.close()
                return EXIT_BAD_INPUT
        where = describe_connection(self.runtime.config.connection)
        if not await self._wait_for_redis(where):
            await self._close_health_and_runtime()
            return EXIT_FATAL if self._fatal or not self._stop.is_set() else EXIT_OK
        for line in await production_checks(self.runtime, production=self.settings.production):
            self.log.warning(line)
        self.log.info("starting workers of %s on %s", ", ".join(self.queues), where)
        deadline = time.monotonic() + self.settings.redis_timeout
        for queue in self.queues:
            try:
                started = await self._start_by(queue, deadline)
            except (ScheduleError, RedisError) as error:  # refused, or not served in time
                self.log.critical(
                    "fatal: cannot start the workers of %s: %s", queue, _start_failure(error)
                )
                await self._close_groups(0.0)
                await self._close_health_and_runtime()
                return EXIT_FATAL
            if not started:  # a signal came while waiting for Redis
                await self._close_groups(0.0)
                await self._close_health_and_runtime()
                return EXIT_OK
        background = [
            asyncio.create_task(self._supervise(queue), name=f"supervise {queue}")
            for queue in self.queues
        ]
        self.loop_watch = self._new_loop_watch()
        background += [
            asyncio.create_task(self._health_log(), name="health log"),
            asyncio.create_task(self._watch_redis(), name="redis watch"),
            asyncio.create_task(self.loop_watch.run(), name="loop watch"),
        ]
        await self._stop.wait()
        code = await self._shutdown()
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await self._close_health_and_runtime()
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signum)
        return EXIT_FATAL if self._fatal else code

    async def _close_health_and_runtime(self) -> None:
        if self.health_server is not None:
            await self.health_server.close()
        await self.runtime.close()

    async def _start_by(self, queue: str, deadline: float) -> bool:
        """Start ``queue``'s workers, retrying (with backoff) while Redis cannot serve its keys
        for a while (a cluster failing over, a connection lost) until ``deadline``; ``False`` when
        a signal came first. Other errors are raised."""
        delay = 0.25
        while True:
            try:
                await self._start(queue)
                return True
            except RedisError as error:
                transient = isinstance(error, ClusterDownError | TryAgainError)
                if not (transient or is_connection_error(error)):
                    raise
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise
                self.log.error(
                    "cannot start the workers of %s yet (%s); retrying for up to %.0f s",
                    queue,
                    _described(error),
                    remaining,
                )
            if await stopped_within(self._stop, min(delay, remaining)):
                return False
            delay = min(delay * 2, 5.0)

    async def _start(self, queue: str) -> None:
        group = self.runtime.workers(
            self.routes,
            queues=[queue],
            listeners=self._listeners,
            heartbeat_interval=self.settings.heartbeat_interval,
            exact=True,
        )
        await group.start()
        self.groups[queue] = group
        self._started_at[queue] = time.monotonic()

    def _new_loop_watch(self) -> LoopWatch:
        """A watch of the event loop, its thresholds from the workers' lock settings."""
        workers = [w for group in self.groups.values() for w in group.workers.values()]
        blocked, at_risk = blocked_thresholds(
            (w.settings.lock_duration, w.settings.lock_renew_time) for w in workers
        )
        processors = {
            (route.queue, route.name): f"{route.processor.__module__}."
            f"{getattr(route.processor, '__qualname__', repr(route.processor))}"
            for route in self.routes
        }

        metrics = self.metrics

        def count(block: LoopBlock) -> None:
            if metrics is not None:
                metrics.loop_blocks.inc()
                metrics.loop_blocked_seconds.inc(block.seconds)

        watch = LoopWatch(
            blocked=blocked,
            at_risk=at_risk,
            running=self._running_jobs,
            processors=processors,
            log=self.log,
            on_block=count,
        )
        if metrics is not None:
            metrics.loop_lag.set_function(lambda: watch.lag)
        return watch

    def _running_jobs(self) -> list[JobInfo]:
        return [
            job
            for group in list(self.groups.values())
            for worker in list(group.workers.values())
            for job in worker.running_jobs
        ]

    async def _supervise(self, queue: str) -> None:
        """Restart the worker of ``queue`` when it dies (auto restart), with backoff."""
        while not self._stop.is_set():
            group = self.groups[queue]
            try:
                await group.wait_closed()
            except BaseException as error:
                task = asyncio.current_task()
                if self._stop.is_set() or (task is not None and task.cancelling()):
                    raise
                self.log.error("worker %s died: %s: %s", queue, type(error).__name__, error)
                await group.close()
                if not self.settings.auto_restart:
                    self._fail(f"worker {queue} died and auto restart is off")
                    return
                if time.monotonic() - self._started_at.get(queue, 0.0) > _STABLE_AFTER:
                    self._backoff[queue] = 0  # it had run fine for a while: start the backoff again
                if not await self._restart(queue):
                    return
                continue
            return  # closed without an error: shutting down

    async def _restart(self, queue: str) -> bool:
        """Start the worker of ``queue`` again, with backoff, until it starts (``True``) or the
        runner stops (``False``); a start that fails (a job scheduler Redis refuses) is retried."""
        while True:
            delay = _RESTART_BACKOFF[min(self._backoff[queue], len(_RESTART_BACKOFF) - 1)]
            self._backoff[queue] += 1
            self.restarts[queue] += 1
            self.log.info(
                "restarting worker %s in %.0f s (restart %d)", queue, delay, self.restarts[queue]
            )
            if await stopped_within(self._stop, delay):
                return False
            try:
                await self._start(queue)
            except Exception as error:
                self.log.error(
                    "worker %s could not start: %s: %s", queue, type(error).__name__, error
                )
                continue
            return True

    async def _shutdown(self) -> int:
        timeout = 0.0 if self._force.is_set() else self.settings.graceful_shutdown_timeout
        closing = asyncio.ensure_future(self._close_groups(timeout))
        force_wait = asyncio.ensure_future(self._force.wait())
        done, _ = await asyncio.wait({closing, force_wait}, return_when=asyncio.FIRST_COMPLETED)
        if closing not in done:  # a second signal while waiting: abandon what still runs
            results = await self._close_groups(0.0)
            await closing
        else:
            results = closing.result()
        force_wait.cancel()
        abandoned = [job for result in results for job in result.abandoned]
        self.tally.log_summary(self.log, self.queues)
        for job in abandoned:
            self.log.warning(
                "left active: queue=%s name=%s id=%s; BullMQ's stalled check puts it back to wait "
                "once its lock expires",
                job.queue,
                job.name,
                job.id,
            )
        if abandoned:
            self.log.warning("stopped with %d job(s) still running", len(abandoned))
            return EXIT_FORCED
        if self._fatal is None:
            self.log.info("stopped gracefully")
        return EXIT_OK

    async def _close_groups(self, timeout: float) -> list[CloseResult]:
        outcomes = await asyncio.gather(
            *(group.close(timeout=timeout) for group in self.groups.values()),
            return_exceptions=True,
        )
        return [result for outcome in outcomes if isinstance(outcome, list) for result in outcome]

    # -- Redis ------------------------------------------------------------------------------------

    async def _ping(self) -> str | None:
        """``None`` when Redis answers PING within a second, else why not."""
        error = await self._ping_error()
        return None if error is None else _described(error)

    async def _ping_error(self) -> Exception | None:
        """``None`` when Redis answers PING within a second, else the error."""
        try:
            context = self.runtime.context(self.queues[0])  # a cluster is asked for its node here
            await asyncio.wait_for(context.pipeline.execute(pack("PING")), 1.0)
        except Exception as error:
            return error
        return None

    async def _wait_for_redis(self, where: str) -> bool:
        """Wait (with backoff, never busy) up to ``redis_timeout`` for Redis to answer."""
        deadline = time.monotonic() + self.settings.redis_timeout
        delay = 0.25
        while True:
            error = await self._ping_error()
            if error is None:
                return True
            problem = _described(error)
            if certificate_refused(error) is not None:  # a setting: waiting will not mend it
                self.log.critical(
                    "Redis at %s refused: the connection's CA (ssl_ca_certs) does not vouch for "
                    "its TLS certificate, or it is not for that host (%s): exiting",
                    where,
                    problem,
                )
                return False
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.log.critical(
                    "Redis at %s unreachable for %.0f s (%s): exiting",
                    where,
                    self.settings.redis_timeout,
                    problem,
                )
                return False
            self.log.error(
                "Redis at %s unreachable (%s); retrying for up to %.0f s", where, problem, remaining
            )
            if await stopped_within(self._stop, min(delay, remaining)):
                return False
            delay = min(delay * 2, 5.0)

    async def _watch_redis(self) -> None:
        """Readiness follows Redis; unreachable past ``redis_timeout`` is fatal."""
        down_since: float | None = None
        while not self._stop.is_set():
            problem = await self._ping()
            now = time.monotonic()
            if problem is None:
                if down_since is not None:
                    self.log.info("Redis reachable again after %.1f s", now - down_since)
                down_since, self._redis_ok = None, True
            else:
                if down_since is None:
                    down_since = now
                    self.log.error("Redis unreachable: %s", problem)
                self._redis_ok = False
                if now - down_since > self.settings.redis_timeout:
                    self._fail(f"Redis unreachable for {now - down_since:.0f} s ({problem})")
                    return
            await stopped_within(self._stop, 1.0)

    # -- health -----------------------------------------------------------------------------------

    def worker_states(self) -> dict[str, dict[str, Any]]:
        """This process's workers: state, counts and running jobs, per queue."""
        states: dict[str, dict[str, Any]] = {}
        for queue in self.queues:
            group = self.groups.get(queue)
            worker = group.workers.get(queue) if group is not None else None
            if worker is None:
                states[queue] = {"state": "starting"}
                continue
            stats = worker.stats()
            states[queue] = {
                "state": worker.state.value,
                "restarts": self.restarts[queue],
                "concurrency": worker.concurrency,
                "processed": sum(s.completed for s in stats.values()),
                "failed": sum(s.failed for s in stats.values()),
                "invalidPayloads": sum(s.invalid_payloads for s in stats.values()),
                "running": [job.id for job in worker.running_jobs],
                "jobs": {
                    name: {"completed": s.completed, "failed": s.failed}
                    for name, s in stats.items()
                },
            }
        return states

    def _ready(self) -> bool:
        running = all(
            state.get("state") == WorkerState.RUNNING.value
            for state in self.worker_states().values()
        )
        blocked = self.loop_watch is not None and self.loop_watch.recently_blocked(_BLOCK_MEMORY)
        return self._redis_ok and running and not blocked and not self._stop.is_set()

    def event_loop_state(self) -> dict[str, Any]:
        """The event loop's lag and blocks, as readiness shows them."""
        watch = self.loop_watch
        if watch is None:
            return {"state": "ok", "watched": False}
        last = watch.last_block
        state: dict[str, Any] = {
            "state": "blocked recently" if watch.recently_blocked(_BLOCK_MEMORY) else "ok",
            "watched": True,
            "lagSeconds": round(watch.lag, 3),
            "blocks": watch.blocks,
            "blockedSeconds": round(watch.blocked_seconds, 3),
            "blockedAfterSeconds": watch.blocked,
        }
        if last is not None:
            state["lastBlock"] = {
                "seconds": round(last.seconds, 3),
                "endedSecondsAgo": round(time.monotonic() - last.ended_at, 1),
                "jobs": [
                    {"queue": job.queue, "name": job.name, "id": job.id, "processor": processor}
                    for job, processor in zip(last.jobs, last.processors, strict=True)
                ],
                "blockedAt": last.where,
            }
        return state

    async def _health_log(self) -> None:
        while not self._stop.is_set():
            if await stopped_within(self._stop, self.settings.health_check_interval):
                return
            for queue, state in self.worker_states().items():
                self.log.info(
                    "health: worker %s %s, processed %s, failed %s, running %d",
                    queue,
                    state.get("state"),
                    state.get("processed", 0),
                    state.get("failed", 0),
                    len(state.get("running", [])),
                )

    async def _start_health_server(self) -> None:
        assert self.settings.health_port is not None

        async def live() -> Response:
            return json_response(200, {"status": "alive"})

        async def ready() -> Response:
            problem = await self._ping()
            self._redis_ok = problem is None
            ok = self._ready()
            body: dict[str, Any] = {
                "status": "ready" if ok else "not ready",
                "redis": problem or "ok",
                "workers": {
                    queue: state.get("state") for queue, state in self.worker_states().items()
                },
            }
            loop = self.event_loop_state()
            if loop["state"] != "ok":  # a reason not to be ready (always in /health/workers)
                body["eventLoop"] = loop
            return json_response(200 if ok else 503, body)

        async def workers() -> Response:
            body: dict[str, Any] = {
                "process": self.worker_states(),
                "eventLoop": self.event_loop_state(),
            }
            try:
                body["heartbeats"] = await asyncio.wait_for(
                    self.runtime.worker_health(self.queues), _REDIS_ANSWER_TIMEOUT
                )
            except Exception as error:
                if not (isinstance(error, TimeoutError) or is_connection_error(error)):
                    raise
                body["heartbeats"] = {"error": f"Redis unreachable: {error or 'no answer'}"}
            return json_response(200, body)

        served = self.metrics
        assert served is not None, "a health server is made with a health port, as the metrics"

        async def metrics() -> Response:
            from prometheus_client import generate_latest

            with contextlib.suppress(Exception):  # depth gauges are best effort during a Redis blip
                for queue in self.queues:
                    counts = await asyncio.wait_for(
                        self.runtime.queue(queue).counts(), _REDIS_ANSWER_TIMEOUT
                    )
                    for state, count in counts.by_state().items():
                        served.depth.labels(queue, state).set(count)
            return (
                200,
                "text/plain; version=0.0.4; charset=utf-8",
                generate_latest(served.registry),
            )

        routes: dict[str, Handler] = {
            "/health/live": live,
            "/health/ready": ready,
            "/health/workers": workers,
            "/metrics": metrics,
        }
        if self.health_server is not None:  # listening since the process started
            self.health_server.serve(routes)
            return
        self.health_server = HealthServer(
            self.settings.health_host, self.settings.health_port, routes
        )
        await self.health_server.start()
        self.log.info(
            "health server on http://%s:%d", self.settings.health_host, self.health_server.port
        )

    def _unhandled(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        self.log.error(
            "unhandled error: %s%s",
            context.get("message", "exception"),
            f": {type(error).__name__}: {error}" if error else "",
            exc_info=error if isinstance(error, BaseException) else None,
        )
