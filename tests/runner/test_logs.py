"""The runner's logs as a process manager receives them from ``workers start``.

Info lines on stdout, problems on stderr (or one stream by choice); text or one
JSON object per line; a line per completed job when asked for, every failed
attempt with its reason, a summary per worker at shutdown.
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bullmq_codegen import BullMQCodeGen, Job, create_queue_config
from bullmq_codegen.runner import RunnerSettings, WorkerRunner, configure_logging
from bullmq_codegen.runner.listeners import JobLogListener
from bullmq_codegen.runner.logs import JOBS_LOGGER
from bullmq_codegen.runtime import JobFailedError, JobRoute, Runtime
from bullmq_codegen.testing import RedisSource

from ..helpers import eventually, import_fresh, purge_modules
from .support import child_env

DEFINITIONS = """\
import os

from pydantic import BaseModel

from bullmq_codegen import Job, create_queue_config


class Chore(BaseModel):
    fail: bool = False


async def do_chore(job: Job[Chore]) -> str:
    if job.payload.fail:
        raise RuntimeError("asked to fail")
    return "done"


queue_config = create_queue_config(
    queues={
        "chores": {
            "options": {"defaultJobOptions": {"attempts": 2}},
            "workers": {"chore": {"schema": Chore, "processor": do_chore}},
        }
    },
    connection=os.environ["BULLMQ_TEST_REDIS_URL"],
    prefix=os.environ["BULLMQ_PREFIX"],
)
"""


@pytest.fixture
async def chores(tmp_path: Path, redis_env: RedisSource) -> AsyncIterator[ModuleType]:
    package = tmp_path / "logged"
    package.mkdir()
    (package / "__init__.py").touch()
    (package / "jobs.py").write_text(DEFINITIONS)
    BullMQCodeGen(config=package / "jobs.py").generate()
    generated = import_fresh(tmp_path, "logged.generated")
    yield generated
    await generated.close_connections()
    purge_modules("logged")


START = (sys.executable, "-m", "bullmq_codegen", "workers", "start")


class Logged:
    """A ``workers start`` process with its stdout and stderr in files of their own."""

    def __init__(self, root: Path, *args: str, **env: str) -> None:
        self.out_path, self.err_path = root / "stdout.log", root / "stderr.log"
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.process = subprocess.Popen(
                [*START, "--config", "logged/jobs.py", *args],
                cwd=root,
                env=child_env(**env),
                stdout=out,
                stderr=err,
            )

    @property
    def stdout(self) -> str:
        return self.out_path.read_text()

    @property
    def stderr(self) -> str:
        return self.err_path.read_text()

    async def run(self, chores: ModuleType) -> None:
        """Wait for the worker, complete one job, fail one twice, stop gracefully."""

        async def running() -> bool:
            assert self.process.poll() is None, self.stdout + self.stderr
            return "worker chores: running" in self.stdout + self.stderr

        await eventually(running, timeout=30)
        from logged.jobs import Chore

        done = await chores.enqueue_chore(Chore())
        assert await done.result(timeout=20) == "done"
        failing = await chores.enqueue_chore(Chore(fail=True))
        with pytest.raises(JobFailedError):
            await failing.result(timeout=20)
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(60) == 0, self.stdout + self.stderr
        self.ids = (done.id, failing.id)


async def test_info_on_stdout_problems_on_stderr_as_text(
    tmp_path: Path, chores: ModuleType
) -> None:
    runner = Logged(tmp_path, "--log-jobs")
    await runner.run(chores)
    done, failing = runner.ids
    out = runner.stdout.splitlines()
    err = runner.stderr.splitlines()
    assert out
    assert err
    assert all(" INFO " in line for line in out), out
    assert all(" WARNING " in line or " ERROR " in line for line in err), err
    completed = [line.split(" INFO ", 1)[1] for line in out if "completed:" in line]
    assert len(completed) == 1
    assert completed[0].startswith(
        f"bullmq_codegen.jobs: completed: queue=chores name=chore id={done} attempt=1 in "
    )
    assert completed[0].endswith(" ms")
    failures = [line.split(" WARNING ", 1)[1] for line in err if "job failed" in line]
    assert failures == [
        f"bullmq_codegen.runner: job failed: queue=chores name=chore id={failing} attempt=1 "
        "(will be retried): RuntimeError: asked to fail",
        f"bullmq_codegen.runner: job failed: queue=chores name=chore id={failing} attempt=2 "
        "(failed for good): RuntimeError: asked to fail",
    ]
    summary = [line.split(" INFO ", 1)[1] for line in out if "summary:" in line]
    assert len(summary) == 1
    assert summary[0].startswith(
        "bullmq_codegen.runner: summary: worker chores: 1 completed (mean "
    )
    assert summary[0].endswith(" ms), 2 failed attempts (1 failed for good)")


async def test_json_lines_on_one_stream(tmp_path: Path, chores: ModuleType) -> None:
    runner = Logged(tmp_path, LOG_FORMAT="json", LOG_STREAM="stdout", LOG_JOBS="true")
    await runner.run(chores)
    done, failing = runner.ids
    assert runner.stderr == ""
    records: list[dict[str, Any]] = [json.loads(line) for line in runner.stdout.splitlines()]
    assert all({"time", "level", "logger", "message"} <= set(record) for record in records)
    assert all(record["time"].endswith("Z") for record in records)
    (completed,) = [record for record in records if record["logger"] == JOBS_LOGGER]
    assert completed["level"] == "INFO"
    assert completed["message"].startswith(f"completed: queue=chores name=chore id={done} ")
    assert (
        completed["queue"],
        completed["job_name"],
        completed["job_id"],
        completed["attempt"],
    ) == ("chores", "chore", done, 1)
    assert isinstance(completed["duration_ms"], float)
    assert completed["duration_ms"] >= 0
    failures = [record for record in records if record["message"].startswith("job failed")]
    assert [
        (r["level"], r["job_id"], r["attempt"], r["will_retry"], r["error"]) for r in failures
    ] == [
        ("WARNING", failing, 1, True, "RuntimeError: asked to fail"),
        ("WARNING", failing, 2, False, "RuntimeError: asked to fail"),
    ]
    (summary,) = [record for record in records if record["message"].startswith("summary:")]
    assert (summary["queue"], summary["completed"], summary["failed"], summary["failed_final"]) == (
        "chores",
        1,
        2,
        1,
    )
    assert summary["mean_duration_ms"] == completed["duration_ms"]


async def test_without_log_jobs_no_line_per_job(tmp_path: Path, chores: ModuleType) -> None:
    runner = Logged(tmp_path, LOG_STREAM="stderr")
    await runner.run(chores)
    assert runner.stdout == ""
    assert "completed:" not in runner.stderr
    assert "summary: worker chores: 1 completed" in runner.stderr
    assert "job failed" in runner.stderr


async def noop(job: Job[None]) -> None:
    return None


@pytest.mark.parametrize(
    ("log_jobs", "level", "listening"),
    [(False, logging.INFO, False), (True, logging.WARNING, False), (True, logging.INFO, True)],
)
def test_the_job_line_listener_exists_only_when_its_lines_show(
    log_jobs: bool, level: int, listening: bool
) -> None:
    jobs_log = logging.getLogger(JOBS_LOGGER)
    saved = jobs_log.level
    jobs_log.setLevel(level)
    try:
        runner = WorkerRunner(
            runtime=Runtime(
                create_queue_config(
                    queues={"q": {"workers": {"j": {"processor": noop}}}},
                    connection="redis://localhost:1/0",  # never connected
                )
            ),
            routes=[JobRoute(queue="q", name="j", schema=None, processor=noop)],
            settings=RunnerSettings(log_jobs=log_jobs),
        )
    finally:
        jobs_log.setLevel(saved)
    listeners = runner._listeners  # pyright: ignore[reportPrivateUsage]
    assert any(isinstance(listener, JobLogListener) for listener in listeners) is listening


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, logging.getLogger(JOBS_LOGGER).level)
    yield
    for handler in root.handlers:
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])
    logging.getLogger(JOBS_LOGGER).setLevel(saved[2])


def test_json_lines_carry_tracebacks_and_any_extra(
    root_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(RunnerSettings(log_format="json"))
    log = logging.getLogger("bullmq_codegen.test")
    try:
        raise ValueError("bad")
    except ValueError:
        log.exception("it broke", extra={"where": Path("/tmp/x"), "count": 3})
    log.info("fine")
    captured = capsys.readouterr()
    problem = json.loads(captured.err)
    assert (problem["level"], problem["message"], problem["where"], problem["count"]) == (
        "ERROR",
        "it broke",
        "/tmp/x",
        3,
    )
    assert problem["exception"].startswith("Traceback (most recent call last):")
    assert problem["exception"].endswith("ValueError: bad")
    assert json.loads(captured.out)["message"] == "fine"
