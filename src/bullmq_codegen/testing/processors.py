"""Call one processor directly, with a typed job built from a payload: for unit tests.

::

    receipt = await run_processor(charge_worker, Order(id=1))      # typed as the result
    run = await record_processor(charge_worker, Order(id=1))
    assert run.progress == [Step(done=1)] and run.logs == ["charged"]

This calls the function as a worker would, without Redis: the payload travels
as JSON and is validated by the route's schema, the result is stored as JSON
and read back as the route's result type (what ``enqueue_<worker>_and_wait``
returns), and the job's progress and log rows are kept in memory. What the
processor itself does (a database, an HTTP call, enqueueing other jobs) is
real.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic

from pydantic import JsonValue
from typing_extensions import TypeVar

from ..definitions.options import JobOptions
from ..job import Job
from ..payloads import wire_payload
from ..runtime.routes import JobRoute

__all__ = ["ProcessorRun", "record_processor", "run_processor"]

P = TypeVar("P")
R = TypeVar("R")
G = TypeVar("G", default=float)


@dataclass(frozen=True, slots=True)
class ProcessorRun(Generic[R, G]):
    """What one call of a processor did."""

    result: R
    """Its result, as stored in Redis and read back as the route's result type."""
    progress: list[G]
    """Every progress value it reported, in order (numbers, or the route's progress model)."""
    logs: list[str]
    """The rows it added to the job's log, in order (the last ``keepLogs`` when set)."""
    job: Job[Any, G]
    """The job it was given."""


class _RecordingControls:
    """The job's controls, kept in memory: what the processor asked of its worker."""

    __slots__ = ("children", "failures", "keep_logs", "logs", "progress")

    def __init__(
        self, keep_logs: int, children: Mapping[str, str], failures: Mapping[str, str]
    ) -> None:
        self.keep_logs = keep_logs
        self.children = dict(children)
        self.failures = dict(failures)
        self.progress: list[JsonValue] = []
        self.logs: list[str] = []

    async def update_progress(self, progress: JsonValue) -> None:
        self.progress.append(json.loads(json.dumps(progress)))  # stored as JSON, as in Redis

    async def log(self, row: str) -> int:
        self.logs.append(row)
        if self.keep_logs > 0:
            del self.logs[: -self.keep_logs]
        return len(self.logs)

    async def children_values(self) -> dict[str, str]:
        return dict(self.children)

    async def children_failures(self) -> dict[str, str]:
        return dict(self.failures)


def _data_json(route: JobRoute[Any, Any, Any], payload: object) -> str:
    return wire_payload(route.schema, payload, f"job {route.name!r}")[1]


async def record_processor(
    route: JobRoute[P, R, G],
    payload: P,
    *,
    attempts_made: int = 0,
    opts: JobOptions | None = None,
    job_id: str = "1",
    children: Mapping[str, JsonValue] | None = None,
    children_failures: Mapping[str, str] | None = None,
) -> ProcessorRun[R, G]:
    """Run ``route``'s processor once on a job of ``payload``; return what it did.

    ``attempts_made`` is the number of earlier attempts the job says it had
    (``job.attempts_made``); ``opts`` its job options; ``children`` the
    results of its flow children by job key (``job.children_results()``), and
    ``children_failures`` the failed reasons of its ignored failed children. The
    processor's exception propagates; a result that is not of the route's
    result type raises as it would fail the attempt in a worker.
    """
    data_json = _data_json(route, payload)
    job_opts: JobOptions = opts if opts is not None else {}
    controls = _RecordingControls(
        job_opts.get("keepLogs", 0),
        {key: json.dumps(value) for key, value in (children or {}).items()},
        children_failures or {},
    )
    now = int(time.time() * 1000)
    job: Job[P, G] = Job(
        id=job_id,
        name=route.name,
        queue_name=route.queue,
        data=json.loads(data_json),
        payload=route.parse(data_json),
        attempts_made=attempts_made,
        attempts_started=attempts_made + 1,
        timestamp=now,
        processed_on=now,
        opts=job_opts,
        controls=controls,
    )
    value = await route.processor(job)
    result = route.result.validate_json(route.result.dump_json(value))
    progress = route.progress_adapter()
    return ProcessorRun(
        result=result,
        progress=[progress.validate_python(value) for value in controls.progress],
        logs=list(controls.logs),
        job=job,
    )


async def run_processor(
    route: JobRoute[P, R, G],
    payload: P,
    *,
    attempts_made: int = 0,
    opts: JobOptions | None = None,
    job_id: str = "1",
    children: Mapping[str, JsonValue] | None = None,
    children_failures: Mapping[str, str] | None = None,
) -> R:
    """Run ``route``'s processor once on a job of ``payload``; return its typed result.

    The same as :func:`record_processor` (see it for the arguments), when only
    the result matters.
    """
    run = await record_processor(
        route,
        payload,
        attempts_made=attempts_made,
        opts=opts,
        job_id=job_id,
        children=children,
        children_failures=children_failures,
    )
    return run.result
