"""Moving a job name to its own queue without losing the jobs waiting in the old one.

The README's procedure, step by step, against a real Redis:

1. deploy workers whose definitions move ``sendEmail`` to ``emails`` with
   ``movedFrom: "default"``: they serve both queues, so jobs that old producers
   still add to ``default`` (and those waiting there, delayed or prioritized)
   run, and so do the new producers' jobs in ``emails``;
2. deploy the producers;
3. once ``bullmq-codegen moved`` reports none left, remove ``movedFrom``.

Without step 1 the old queue's worker would fail those jobs as unknown: the
last test shows it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bullmq_codegen import QueueConfig, create_queue_config
from bullmq_codegen.runner import RunnerSettings, WorkerRunner
from bullmq_codegen.runtime import JobFailedError, JobRoute, Producer, Runtime, moved_jobs_left
from bullmq_codegen.runtime.group import select_routes
from bullmq_codegen.testing import RedisSource, free_port

from ..helpers import generated_case, import_fresh, purge_modules


@pytest.fixture
def case_root(tmp_path: Path) -> Iterator[Path]:
    yield generated_case("moves", tmp_path, "movecase/jobs.py")
    purge_modules("movecase")


@pytest.fixture
async def moved(case_root: Path, redis_env: RedisSource) -> AsyncIterator[ModuleType]:
    """Step 1's generated package: sendEmail in ``emails``, movedFrom ``default``."""
    package = import_fresh(case_root, "movecase.generated")
    yield package
    await package.close_connections()


@pytest.fixture
async def before(moved: ModuleType) -> AsyncIterator[Runtime]:
    """The definitions before the move: both job names in ``default`` (old producers)."""
    from movecase import jobs

    runtime = Runtime(_config(moved, {"default": {"workers": {**_workers(jobs, moved=False)}}}))
    yield runtime
    await runtime.close()


def _config(package: ModuleType, queues: Any) -> QueueConfig:
    current = package.queues.runtime.config
    return create_queue_config(queues=queues, connection=current.connection, prefix=current.prefix)


def _workers(jobs: ModuleType, *, moved: bool) -> dict[str, Any]:
    email: dict[str, Any] = {"schema": jobs.Email, "processor": jobs.send_email}
    if moved:
        email["movedFrom"] = "default"
    return {
        "sendEmail": email,
        "resizeImage": {"schema": jobs.Image, "processor": jobs.resize_image},
    }


def old_producer(runtime: Runtime) -> Producer[Any]:
    from movecase import jobs

    return Producer(runtime.queue("default"), "sendEmail", jobs.Email)


async def test_no_job_is_lost_while_a_job_name_moves(moved: ModuleType, before: Runtime) -> None:
    from movecase import jobs

    old = old_producer(before)
    waiting = [await old.enqueue(jobs.Email(to=f"w{i}"), {}) for i in range(3)]
    waiting.append(await old.enqueue(jobs.Email(to="d0"), {"delay": 300}))
    waiting.append(await old.enqueue(jobs.Email(to="p0"), {"priority": 5}))
    image = await Producer(before.queue("default"), "resizeImage", jobs.Image).enqueue(
        jobs.Image(path="a.png"), {}
    )
    (left,) = await moved_jobs_left(moved.queues.runtime)
    assert (left.name, left.former, left.queue, left.total) == ("sendEmail", "default", "emails", 5)
    assert dict(left.left) == {"wait": 3, "delayed": 1, "prioritized": 1}

    # step 1: the new workers, run as `bullmq-codegen workers start` runs them
    runner = WorkerRunner(
        runtime=moved.queues.runtime,
        routes=moved.workers.ROUTES,
        settings=RunnerSettings(enabled=True),
    )
    assert runner.queues == ["default", "emails"]
    running = asyncio.ensure_future(runner.run())
    try:
        # old producers, not yet redeployed, still add to the old queue
        late = [await old.enqueue(jobs.Email(to=f"late{i}"), {}) for i in range(2)]
        # step 2: the producers are redeployed; they add to the new queue only
        new = [await moved.enqueue_send_email(jobs.Email(to=f"n{i}")) for i in range(3)]
        assert {job.queue.name for job in new} == {"emails"}
        old_results = [await job.result(timeout=15) for job in [*waiting, *late]]
        new_results = [await job.result(timeout=15) for job in new]
        assert await image.result(timeout=15) == "a.png"
    finally:
        runner.stop()
        assert await running == 0
    assert old_results == [
        f"default:{to}" for to in ["w0", "w1", "w2", "d0", "p0", "late0", "late1"]
    ]
    assert new_results == ["emails:n0", "emails:n1", "emails:n2"]
    for queue in ("default", "emails"):
        counts = await moved.queues.runtime.queue(queue).counts()
        assert counts.failed == 0
    # step 3: nothing left behind; movedFrom can go
    (left,) = await moved_jobs_left(moved.queues.runtime)
    assert left.total == 0


async def test_a_former_queue_left_with_no_workers_is_drained_where_the_name_runs(
    moved: ModuleType, before: Runtime
) -> None:
    from movecase import jobs

    emails_only = Runtime(
        _config(
            moved,
            {"emails": {"workers": {"sendEmail": _workers(jobs, moved=True)["sendEmail"]}}},
        )
    )
    route = JobRoute(queue="emails", name="sendEmail", schema=jobs.Email, processor=jobs.send_email)
    try:
        job = await old_producer(before).enqueue(jobs.Email(to="x"), {})
        async with emails_only.workers([route], queues=["emails"]) as group:
            assert sorted(group.workers) == ["default", "emails"]
            assert await job.result(timeout=10) == "default:x"
    finally:
        await emails_only.close()


def test_selection_runs_a_former_queue_where_it_belongs() -> None:
    def route(queue: str, name: str) -> JobRoute[Any, Any, Any]:
        return JobRoute(queue=queue, name=name, schema=None, processor=_noop)

    email, image = route("emails", "sendEmail"), route("default", "resizeImage")
    moved = {"sendEmail": "default"}
    both = select_routes([email, image], moved=moved)
    assert both == {"default": [image, email], "emails": [email]}
    # the former queue keeps a worker of its own: it runs where that worker is selected
    assert select_routes([email, image], queues=["emails"], moved=moved) == {"emails": [email]}
    assert select_routes([email, image], queues=["default"], moved=moved) == {
        "default": [image, email]
    }
    # left with none: it runs with the moved name's queue (unless exactly one queue is asked)
    assert select_routes([email], workers=["sendEmail"], moved=moved) == {
        "default": [email],
        "emails": [email],
    }
    assert select_routes([email], queues=["emails"], moved=moved, exact=True) == {"emails": [email]}
    assert select_routes([email], queues=["default"], moved=moved) == {"default": [email]}
    with pytest.raises(ValueError, match="unknown queue or worker names: 'other'"):
        select_routes([email], queues=["other"], moved=moved)


async def _noop(job: Any) -> None:
    return None


async def test_moved_reports_what_is_left_and_exits_1_until_drained(
    moved: ModuleType, before: Runtime, case_root: Path
) -> None:
    from movecase import jobs

    job = await old_producer(before).enqueue(jobs.Email(to="x"), {"delay": 60_000})
    assert await _moved_command(case_root) == (
        1,
        "sendEmail: 1 left in queue 'default' (moved to 'emails') (delayed 1): keep movedFrom\n",
    )
    await before.queue("default").remove_job(job.id)
    assert await _moved_command(case_root) == (
        0,
        "sendEmail: none left in queue 'default' (moved to 'emails'): its movedFrom can be "
        "removed\n",
    )


async def test_moved_says_when_redis_cannot_be_read(
    case_root: Path, redis_env: RedisSource
) -> None:
    port = free_port()
    env = {**os.environ, "BULLMQ_TEST_REDIS_URL": f"redis://127.0.0.1:{port}/0"}
    done = await _run_moved(case_root, env)
    assert done.returncode == 2  # not 1, which means "jobs left"
    assert done.stdout == ""
    assert done.stderr.startswith(
        f"error: Redis at redis://127.0.0.1:{port}/0 unreachable: Error 111 connecting to "
    )
    assert "Traceback" not in done.stderr


async def _moved_command(root: Path) -> tuple[int, str]:
    done = await _run_moved(root, dict(os.environ))
    assert done.stderr == ""
    return done.returncode, done.stdout


async def _run_moved(root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "bullmq_codegen", "moved", "--config", "movecase/jobs.py"]
    return await asyncio.to_thread(
        subprocess.run, command, cwd=root, capture_output=True, text=True, env=env
    )


async def test_without_moved_from_the_old_queue_fails_the_jobs_left(
    moved: ModuleType, before: Runtime
) -> None:
    from movecase import jobs

    # movedFrom removed too early: the old queue's worker knows only resizeImage now
    after = Runtime(
        _config(
            moved,
            {
                "emails": {"workers": {"sendEmail": _workers(jobs, moved=False)["sendEmail"]}},
                "default": {"workers": {"resizeImage": _workers(jobs, moved=False)["resizeImage"]}},
            },
        )
    )
    route = JobRoute(
        queue="default", name="resizeImage", schema=jobs.Image, processor=jobs.resize_image
    )
    try:
        job = await old_producer(before).enqueue(jobs.Email(to="x"), {})
        async with after.workers([route], queues=["default"]):
            with pytest.raises(JobFailedError, match="no processor for job name 'sendEmail'"):
                await job.result(timeout=10)
    finally:
        await after.close()


async def test_a_moved_schedule_never_stops_whichever_queue_starts_first(
    moved: ModuleType, before: Runtime
) -> None:
    from movecase import jobs

    hourly: dict[str, Any] = {"hourly": {"every": 3_600_000, "payload": jobs.Email(to="all")}}
    old_workers = _workers(jobs, moved=False)
    old_workers["sendEmail"]["schedules"] = hourly
    new_email = {**_workers(jobs, moved=True)["sendEmail"], "schedules": hourly}
    old = Runtime(_config(moved, {"default": {"workers": old_workers}}))
    new = Runtime(
        _config(
            moved,
            {
                "emails": {"workers": {"sendEmail": new_email}},
                "default": {"workers": {"resizeImage": old_workers["resizeImage"]}},
            },
        )
    )
    routes = [
        JobRoute(queue="emails", name="sendEmail", schema=jobs.Email, processor=jobs.send_email),
        JobRoute(
            queue="default", name="resizeImage", schema=jobs.Image, processor=jobs.resize_image
        ),
    ]
    old_routes = [JobRoute(queue="default", name=r.name, schema=r.schema, processor=r.processor) for r in routes]  # fmt: skip
    try:
        async with old.workers(old_routes):
            pass
        assert await _scheduler_ids(old, "default") == ["hourly"]
        # the old queue's workers are redeployed first: the scheduler stays where it was
        async with new.workers(routes, queues=["default"], exact=True):
            pass
        assert await _scheduler_ids(old, "default") == ["hourly"]
        # then the new queue's: it has its own, and only then is the old one removed
        async with new.workers(routes, queues=["emails"], exact=True) as group:
            assert group.schedules["emails"].written == ("hourly",)
        assert await _scheduler_ids(new, "emails") == ["hourly"]
        assert await _scheduler_ids(old, "default") == []
    finally:
        await old.close()
        await new.close()


async def _scheduler_ids(runtime: Runtime, queue: str) -> list[str]:
    return sorted(info.id for info in await runtime.queue(queue).schedulers())
