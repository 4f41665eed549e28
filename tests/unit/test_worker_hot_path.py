"""The pieces a worker's job goes through that are computed once, not per job: the packed
completion options, the listeners' bound callbacks."""

from __future__ import annotations

import json
import logging
from typing import Any

import msgpack
import pytest

from bullmq_codegen.runtime.routes import JobRoute
from bullmq_codegen.runtime.wire import decode_opts
from bullmq_codegen.runtime.worker.events import JobInfo, WorkerListener, callbacks, emit
from bullmq_codegen.runtime.worker.processing import Route, finish_options
from bullmq_codegen.runtime.worker.settings import RouteSettings


async def _noop(job: Any) -> None:
    return None


def _route(remove_on_complete: Any = None) -> Route:
    route = JobRoute(queue="q", name="n", schema=None, processor=_noop)
    return Route(route, RouteSettings(remove_on_complete=remove_on_complete), None)


FIXED = {"limiter": None, "lockDuration": 30_000, "maxMetricsSize": "", "name": "w"}


def _expected(token: str, opts: dict[str, Any], atm: int, keep: dict[str, int]) -> dict[str, Any]:
    """The options as one dict built per job (the worker's former way) would pack them."""
    return {
        **FIXED,
        "token": token,
        "keepJobs": keep,
        "attempts": opts.get("attempts", 1),
        "attemptsMade": atm,
        "fpof": opts.get("failParentOnFailure", False),
        "cpof": opts.get("continueParentOnFailure", False),
        "idof": opts.get("ignoreDependencyOnFailure", False),
        "rdof": opts.get("removeDependencyOnFailure", False),
    }


@pytest.mark.parametrize(
    ("stored", "route_default", "keep"),
    [
        ({"attempts": 3, "removeOnComplete": True}, None, {"count": 0}),
        ({"attempts": 0, "delay": 0}, None, {"count": -1}),
        ({"attempts": 0}, 10, {"count": 10}),
        (
            {"removeOnComplete": {"age": 60, "count": 5}, "fpof": True, "idof": True},
            True,
            {"age": 60, "count": 5},
        ),
    ],
)
def test_the_packed_options_are_the_per_job_dict_whatever_the_token(
    stored: dict[str, Any], route_default: Any, keep: dict[str, int]
) -> None:
    route = _route(route_default)
    raw_opts = json.dumps(stored)
    opts = decode_opts(raw_opts)
    for atm in ("", "2"):
        fields = {"opts": raw_opts, "atm": atm} if atm else {"opts": raw_opts}
        for token in ("worker-a:1", "worker-b:17", "é" * 40):
            packed = finish_options(FIXED, route, fields, opts, token)
            expected = _expected(token, dict(opts), int(atm or 0), keep)
            assert msgpack.unpackb(packed) == expected
    assert len(route.finish_args) == 2  # one packing per (options, attempts made)


def test_the_packed_options_are_forgotten_past_a_bound() -> None:
    route = _route()
    for attempt in range(300):
        fields = {"opts": json.dumps({"attempts": attempt}), "atm": "0"}
        packed = finish_options(FIXED, route, fields, {"attempts": attempt}, "t")
        assert msgpack.unpackb(packed)["attempts"] == attempt
    assert 0 < len(route.finish_args) <= 256


class _Completions(WorkerListener):
    def __init__(self) -> None:
        self.completed: list[str] = []

    def on_completed(self, job: JobInfo, duration: float) -> None:
        self.completed.append(job.id)


class _Broken(WorkerListener):
    def on_completed(self, job: JobInfo, duration: float) -> None:
        raise RuntimeError("listener bug")


def test_only_listeners_overriding_an_event_get_it(caplog: pytest.LogCaptureFixture) -> None:
    counting, broken, silent = _Completions(), _Broken(), WorkerListener()
    listeners = [counting, broken, silent]
    assert callbacks(listeners, "on_active") == ()
    completed = callbacks(listeners, "on_completed")
    assert len(completed) == 2
    job = JobInfo(queue="q", name="n", id="1", attempt=1)
    with caplog.at_level(logging.ERROR, logger="bullmq_codegen.worker"):
        emit(completed, job, 0.5)  # the broken listener's error is logged, the others still hear
        emit(completed, job, 0.5)
    assert counting.completed == ["1", "1"]
    failures = [record for record in caplog.records if record.exc_info]
    assert len(failures) == 2
    assert all("_Broken" in record.getMessage() for record in failures)
