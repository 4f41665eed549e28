"""Running one job: route it by name, validate its data, run its processor, finish it.

A job whose name has no processor, or whose data fails the schema, fails at
once without retry (``UnrecoverableError``) with a reason that says why. A
processor's exception fails the attempt; bullmq's own code then retries it
with its backoff, or fails it for good.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgpack
from bullmq.custom_errors import UnrecoverableError
from bullmq.job import Job as BullJob
from pydantic import JsonValue, ValidationError
from redis.exceptions import RedisError

from ...definitions.options import JobOptions
from ...job import Job
from ..connection import is_connection_error
from ..queue_context import QueueContext
from ..resp import pack
from ..routes import JobRoute
from ..wire import decode_opts, keep_jobs
from .backoff import BackoffError, retry_delay
from .events import JobInfo, Outcome, RouteStats, WorkerListener, callbacks, emit, notify
from .fetcher import JobFetcher, RawJob, now_ms, parse_next_job
from .maintenance import LockKeeper
from .settings import QueueWorkerSettings, RouteSettings

__all__ = ["JobRunner", "Route", "finish_options"]

T = TypeVar("T")


@dataclass(slots=True)
class Route:
    """A job name this worker runs: its route, settings, concurrency bound and counts.

    ``limit`` is ``None`` when the worker's own bound is the route's (its only route).
    """

    route: JobRoute[Any, Any, Any]
    settings: RouteSettings
    limit: asyncio.Semaphore | None
    stats: RouteStats = field(default_factory=RouteStats)
    finish_args: dict[tuple[str | None, str | None], tuple[bytes, bytes]] = field(
        default_factory=dict[tuple[str | None, str | None], tuple[bytes, bytes]]
    )
    """(stored ``opts``, ``atm``) → the packed options of completing such a job, before and
    after its token (see :func:`finish_options`)."""


_FINISH_ARGS_KEPT = 256
"""Distinct (options, attempts made) a route keeps the packed completion options of; past it
they are forgotten (jobs whose options all differ cost a packing each, as before)."""
_OPTS_KEPT = 256
"""Distinct stored options texts a worker keeps decoded (see :meth:`JobRunner._job_opts`)."""
_TOKEN_KEY: bytes = msgpack.packb("token")
_EMPTY_TEXT: bytes = msgpack.packb("")

_CHILDREN_PENDING_OR_FAILED = (-4, -9)
_MISSING_KEY, _MISSING_LOCK = -1, -2
"""BullMQ's finishing script's refusals: no job hash; no lock (or not this token's)."""
"""bullmq's codes for a parent that cannot complete while children are pending or have
failed (``continueParentOnFailure`` runs it early); it still holds the job's lock."""


class _Refused(Exception):
    """BullMQ refused to complete the job; ``error`` says why."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class _NotRecorded(Exception):
    """Redis did not record the job's outcome; ``error`` says why."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class _Controls:
    """What a running job may do to itself: progress and log rows; what its children left."""

    __slots__ = ("_ctx", "_job_id", "_keep_logs")

    def __init__(self, ctx: QueueContext, job_id: str, keep_logs: int) -> None:
        self._ctx = ctx
        self._job_id = job_id
        self._keep_logs = keep_logs

    async def update_progress(self, progress: JsonValue) -> None:
        await self._ctx.backend.updateProgress(self._job_id, progress)

    async def log(self, row: str) -> int:
        return await self._ctx.backend.addLog(self._job_id, row, self._keep_logs)

    async def children_values(self) -> dict[str, str]:
        # BullMQ keeps each completed child's result in the parent's ``processed`` hash.
        values: dict[str, str] = await self._ctx.client.hgetall(  # type: ignore[assignment]
            self._ctx.job_key(self._job_id) + ":processed"
        )
        return values

    async def children_failures(self) -> dict[str, str]:
        # The failed reasons of children that failed with ignoreDependencyOnFailure or
        # continueParentOnFailure, as Node's getIgnoredChildrenFailures reads them.
        failures: dict[str, str] = await self._ctx.client.hgetall(  # type: ignore[assignment]
            self._ctx.job_key(self._job_id) + ":failed"
        )
        return failures


def _bull_job(ctx: QueueContext, raw: RawJob) -> BullJob:
    """bullmq's ``Job`` of ``raw``, to fail it with; data or options that are not JSON (which
    it would decode, and fail on) are left out: failing needs neither, and Redis keeps them."""
    try:
        return BullJob.fromJSON(ctx, raw.fields, raw.id)
    except (ValueError, AttributeError):
        fields = dict(raw.fields)
        if not _is_json(fields.get("data"), object):
            fields["data"] = "null"
        if not _is_json(fields.get("opts"), dict):
            fields["opts"] = "{}"
        if not _is_int(fields.get("timestamp")):
            fields["timestamp"] = "0"
        return BullJob.fromJSON(ctx, fields, raw.id)


def _is_int(text: str | None) -> bool:
    """Whether ``text`` is absent, or an integer as BullMQ stores its timestamps."""
    if not text:
        return True
    try:
        int(text)
    except ValueError:
        return False
    return True


def _is_json(text: str | None, kind: type) -> bool:
    """Whether ``text`` is absent, or JSON of a value of type ``kind``."""
    if not text:
        return True
    try:
        return isinstance(json.loads(text), kind)
    except ValueError:
        return False


def finish_options(
    fixed: Mapping[str, Any], route: Route, fields: Mapping[str, str], opts: Any, token: str
) -> bytes:
    """``moveToFinished``'s packed options for completing a job with ``fields`` (``opts``
    decoded) under ``token``; ``fixed``: the entries every job of the worker shares.

    Packed once per route and distinct stored options (and attempts made), then only
    the token per job (BullMQ's script reads the options as a table: order is free).
    """
    key = (fields.get("opts"), fields.get("atm"))
    packed = route.finish_args.get(key)
    if packed is None:
        remove = opts.get("removeOnComplete", route.settings.remove_on_complete)
        entries: dict[str, Any] = {
            **fixed,
            "keepJobs": keep_jobs(remove),
            "attempts": opts.get("attempts", 1),
            "attemptsMade": int(key[1] or 0),
            "fpof": opts.get("failParentOnFailure", False),
            "cpof": opts.get("continueParentOnFailure", False),
            "idof": opts.get("ignoreDependencyOnFailure", False),
            "rdof": opts.get("removeDependencyOnFailure", False),
        }
        # packed with the token first, then the token's value (here "") left out
        whole: bytes = msgpack.packb({"token": "", **entries}, use_bin_type=True)
        head = whole.index(_TOKEN_KEY) + len(_TOKEN_KEY)
        packed = (whole[:head], whole[head + len(_EMPTY_TEXT) :])
        if len(route.finish_args) >= _FINISH_ARGS_KEPT:
            route.finish_args.clear()
        route.finish_args[key] = packed
    before, after = packed
    return before + msgpack.packb(token) + after


class JobRunner:
    """Runs the jobs one queue's worker takes, each with the processor of its name."""

    def __init__(
        self,
        *,
        ctx: QueueContext,
        routes: Mapping[str, Route],
        settings: QueueWorkerSettings,
        locks: LockKeeper,
        fetcher: JobFetcher,
        listeners: list[WorkerListener],
    ) -> None:
        self._ctx = ctx
        self._queue = ctx.name
        self._routes = routes
        self._settings = settings
        self._locks = locks
        self._fetcher = fetcher
        self._listeners = listeners
        self._on_active: tuple[Callable[[JobInfo], None], ...] = ()
        self._on_completed: tuple[Callable[[JobInfo, float], None], ...] = ()
        self.listeners_changed()
        self._limiter = dict(settings.limiter) if settings.limiter is not None else None
        fixed: dict[str, Any] = {
            "limiter": self._limiter,
            "lockDuration": settings.lock_duration,
            "maxMetricsSize": settings.metrics_size,
        }
        if settings.name is not None:
            fixed["name"] = settings.name
        self._finish_fixed = fixed
        """The completion options every job of this worker shares."""
        self._scalar_opts: dict[str, JobOptions] = {}
        """Stored options text → its decoded options, when their values are all scalars
        (a shallow copy of them is then as good as decoding them again)."""
        self.running: dict[str, JobInfo] = {}
        self.unrouted = RouteStats()
        """Counts of the jobs whose name no route here runs (each failed at once)."""

    def listeners_changed(self) -> None:
        """Take the listeners' list as it is now (a listener was added to it)."""
        self._on_active = callbacks(self._listeners, "on_active")
        self._on_completed = callbacks(self._listeners, "on_completed")

    async def run(self, raw: RawJob, token: str, fetch_next: Callable[[], bool]) -> RawJob | None:
        """Process ``raw`` to the end; return the next job its completion took, if any."""
        fields = raw.fields
        name = fields.get("name", "")
        attempt = int(fields.get("atm") or fields.get("attemptsMade") or 0) + 1
        info = JobInfo(queue=self._queue, name=name, id=raw.id, attempt=attempt)
        self._locks.track(raw.id, token)
        self.running[raw.id] = info
        try:
            route = self._routes.get(name)
            if route is None:
                known = ", ".join(sorted(self._routes))
                notify(self._listeners, lambda listener: listener.on_unknown_job(info))
                reason = (
                    f"no processor for job name {name!r} in queue {self._queue!r}: "
                    f"its workers here run {known}"
                )
                await self._fail_now(raw, token, info, None, reason)
                return None
            deferred = fields.get("defa")
            if deferred:
                await self._fail_now(raw, token, info, route, deferred)
                return None
            limit = route.settings.max_started_attempts
            if limit is not None and int(fields.get("ats") or 0) > limit:
                # Node's wording, so both runtimes' failed jobs read the same
                await self._fail_now(
                    raw, token, info, route, "job started more than allowable limit"
                )
                return None
            if route.limit is None:
                return await self._process(route, raw, token, info, fetch_next)
            async with route.limit:
                return await self._process(route, raw, token, info, fetch_next)
        finally:
            self._locks.untrack(raw.id)
            self.running.pop(raw.id, None)

    async def _process(
        self,
        route: Route,
        raw: RawJob,
        token: str,
        info: JobInfo,
        fetch_next: Callable[[], bool],
    ) -> RawJob | None:
        fields = raw.fields
        data_json = fields.get("data") or "{}"
        # stored by a faulty producer elsewhere: no retry can mend it, so it fails at once
        try:
            # the data of jobs without a payload, decoded without the JSON parser
            data: JsonValue = (
                {} if data_json == "{}" else None if data_json == "null" else json.loads(data_json)
            )
        except ValueError as error:
            await self._fail_now(raw, token, info, route, f"its data is not JSON ({error})")
            return None
        try:
            opts = self._job_opts(fields.get("opts"))
        except (ValueError, AttributeError) as error:  # not JSON, or not an object
            await self._fail_now(raw, token, info, route, f"its options are not JSON ({error})")
            return None
        stamp = fields.get("timestamp")
        try:
            timestamp = int(stamp) if stamp else 0
        except ValueError:
            reason = f"its timestamp is not a number ({stamp!r})"
            await self._fail_now(raw, token, info, route, reason)
            return None
        try:
            payload = route.route.parse(data_json) if route.route.schema is not None else None
        except ValidationError as error:
            invalid = error
            route.stats.invalid_payloads += 1
            notify(self._listeners, lambda listener: listener.on_invalid_payload(info, invalid))
            schema = route.route.schema.__name__ if route.route.schema is not None else "-"
            reason = f"invalid payload for job {info.name!r} (schema {schema}): {invalid}"
            await self._fail_now(raw, token, info, route, reason)
            return None
        # what completing it takes, from its options before its processor can touch them
        finishing = finish_options(self._finish_fixed, route, fields, opts, token)
        removed = bool(opts.get("removeOnComplete", route.settings.remove_on_complete))
        job = Job(
            id=raw.id,
            name=info.name,
            queue_name=self._queue,
            data=data,
            payload=payload,
            attempts_made=info.attempt - 1,
            attempts_started=int(fields.get("ats") or 0),
            timestamp=timestamp,
            processed_on=int(fields["processedOn"]) if fields.get("processedOn") else None,
            opts=opts,
            controls=_Controls(self._ctx, raw.id, opts.get("keepLogs", 0)),
        )
        if self._on_active:
            emit(self._on_active, info)
        route.stats.active += 1
        started = time.monotonic()
        try:
            value = route.route.result.dump_json(await route.route.processor(job))
        except Exception as error:
            duration = time.monotonic() - started
            await self._fail(raw, token, info, route, error, duration, job)
            return None
        finally:
            route.stats.active -= 1
        duration = time.monotonic() - started
        try:
            next_job = await self._complete(raw, finishing, removed, value, fetch_next())
        except _Refused as refused:
            # As Node's worker does: a completion BullMQ refuses fails the attempt instead.
            try:
                raise refused.error from None
            except Exception as error:
                await self._fail(raw, token, info, route, error, duration, job)
            return None
        except _NotRecorded as missed:
            self._not_recorded(info, route, "completed", missed.error)
            return None
        route.stats.completed += 1
        if self._on_completed:
            emit(self._on_completed, info, duration)
        return next_job

    def _job_opts(self, stored: str | None) -> JobOptions:
        """The job's options, decoded from their stored JSON: once per distinct text whose
        values are all scalars (each job gets its own copy), else for every job."""
        if not stored:
            return {}
        known = self._scalar_opts.get(stored)
        if known is not None:
            return known.copy()
        opts = decode_opts(stored)
        if not any(isinstance(value, dict | list) for value in opts.values()):
            if len(self._scalar_opts) >= _OPTS_KEPT:
                self._scalar_opts.clear()
            self._scalar_opts[stored] = opts.copy()
        return opts

    async def _complete(
        self, raw: RawJob, finishing: bytes, removed: bool, value: str, fetch_next: bool
    ) -> RawJob | None:
        """Complete ``raw`` with ``value``: ``finishing`` its packed options (see
        :func:`finish_options`), ``removed`` whether completing removes it."""
        self._locks.untrack(raw.id)  # finishing releases the lock: no renewal may race it
        script = self._ctx.complete
        packed = script.packed(
            self._ctx.job_key(raw.id),
            [
                raw.id,
                now_ms(),
                "returnvalue",
                value,
                "completed",
                "1" if fetch_next else "",
                self._ctx.keys[""],
                finishing,
            ],
        )
        sends = 1
        started = time.monotonic()
        try:
            result: Any = await self._ctx.pipeline.run_script(script, packed)
        except Exception as error:

            def send() -> Awaitable[Any]:
                nonlocal sends
                sends += 1
                return self._ctx.pipeline.run_script(script, packed)

            try:
                result = await self._retrying(send, started=started, failed=error)
            except Exception as final_error:
                raise _NotRecorded(final_error) from final_error
        if isinstance(result, int) and result < 0:
            if sends > 1 and await self._completed_unheard(raw.id, result, removed):
                return None
            refusal = self._ctx.backend.scripts.finishedErrors(
                {"code": result, "jobId": raw.id, "command": "moveToFinished", "state": "active"}
            )
            if result in _CHILDREN_PENDING_OR_FAILED:
                self._report_error(refusal)
                raise _Refused(refusal)
            raise _NotRecorded(refusal)
        job, limit_delay, delay_until = parse_next_job(result)
        if fetch_next:
            self._fetcher.note(job is not None, limit_delay, delay_until)
        return job

    async def _completed_unheard(self, job_id: str, code: int, removed: bool) -> bool:
        """Whether a completion sent again after a lost connection is refused because the first
        sending completed the job (its reply was lost with the connection): the job is gone,
        removed on completion (``Missing key``), or already in the completed set without its
        lock (``Missing lock``)."""
        if code == _MISSING_KEY:
            return removed
        if code == _MISSING_LOCK:
            score = await self._ctx.pipeline.execute(
                pack("ZSCORE", self._ctx.keys["completed"], job_id)
            )
            return score is not None
        return False

    async def _fail_now(
        self, raw: RawJob, token: str, info: JobInfo, route: Route | None, reason: str
    ) -> None:
        """Fail the job without retry: ``reason`` becomes its failed reason."""
        try:
            raise UnrecoverableError(reason)
        except UnrecoverableError as error:
            await self._fail(raw, token, info, route, error, 0.0)

    async def _fail(
        self,
        raw: RawJob,
        token: str,
        info: JobInfo,
        route: Route | None,
        error: Exception,
        duration: float,
        job: Job[Any, Any] | None = None,
    ) -> None:
        """Fail this attempt; bullmq retries it with backoff or fails it for good.

        Must be awaited inside the ``except`` block that caught ``error``:
        bullmq stores the current traceback as the job's stack trace. A custom
        backoff type's delay comes from the worker's strategy, given ``job``.
        """
        self._locks.untrack(raw.id)  # finishing releases the lock: no renewal may race it
        bull_job = _bull_job(self._ctx, raw)
        if (
            route is not None
            and route.settings.remove_on_fail is not None
            and "removeOnFail" not in bull_job.opts
        ):
            bull_job.opts["removeOnFail"] = route.settings.remove_on_fail
        attempts = int(bull_job.opts.get("attempts") or 0)
        will_retry = (
            not isinstance(error, UnrecoverableError) and bull_job.attemptsMade + 1 < attempts
        )
        if will_retry and route is not None and job is not None:
            try:
                delay = await retry_delay(
                    route.settings.backoff_strategy,
                    bull_job.opts.get("backoff"),
                    bull_job.attemptsMade + 1,
                    error,
                    job,
                )
            except BackoffError as problem:
                # failed for good with this reason; the stack trace stays the error's
                error = UnrecoverableError(f"{error} (not retried: {problem})")
                will_retry = False
            else:
                # bullmq retries after a fixed delay (-1: fails for good), or at once without one
                bull_job.opts["backoff"] = (
                    {"type": "fixed", "delay": delay} if delay is not None else None
                )
                will_retry = delay != -1
        try:
            await self._retrying(lambda: bull_job.moveToFailed(error, token, False))
        except Exception as finish_error:
            self._not_recorded(info, route, "failed", finish_error)
            return
        (route.stats if route is not None else self.unrouted).failed += 1
        notify(
            self._listeners,
            lambda listener: listener.on_failed(
                info, error, will_retry=will_retry, duration=duration
            ),
        )

    async def _retrying(
        self,
        operation: Callable[[], Awaitable[T]],
        *,
        started: float | None = None,
        failed: Exception | None = None,
    ) -> T:
        """``operation()``, tried again on connection errors while the job's lock lasts.

        ``failed``: the error of a first try (made by the caller at ``started``).
        """
        deadline = (time.monotonic() if started is None else started) + (
            self._settings.lock_duration / 1000
        )
        delay = 0.05
        while True:
            if failed is None:
                try:
                    return await operation()
                except Exception as error:
                    failed = error
            if not is_connection_error(failed) or time.monotonic() + delay > deadline:
                raise failed
            self._report_error(failed)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
            failed = None

    def _not_recorded(
        self, info: JobInfo, route: Route | None, outcome: Outcome, error: BaseException
    ) -> None:
        """Tell that Redis did not record ``info``'s ``outcome`` (a Redis error is an error of
        the worker's too; a refusal, its lock lost or the job no longer active, is not)."""
        if isinstance(error, RedisError | OSError):
            self._report_error(error)
        (route.stats if route is not None else self.unrouted).not_recorded += 1
        notify(self._listeners, lambda listener: listener.on_not_recorded(info, outcome, error))

    def _report_error(self, error: BaseException) -> None:
        notify(self._listeners, lambda listener: listener.on_error(self._queue, error))
