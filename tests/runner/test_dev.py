"""``bullmq-codegen workers dev``: a change regenerates the code and restarts the workers."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bullmq_codegen.testing import RedisSource

from ..helpers import eventually, generated_case, import_fresh, purge_modules
from .support import child_env

pytestmark = pytest.mark.slow


async def test_hot_reload(tmp_path: Path, redis_env: RedisSource) -> None:
    root = generated_case("ops", tmp_path, "ops/jobs.py")
    producers = root / "ops" / "generated" / "producers.py"
    log_path = tmp_path / "dev.log"
    with log_path.open("wb") as log:
        dev = subprocess.Popen(
            [sys.executable, "-m", "bullmq_codegen", "workers", "dev", "--config", "ops/jobs.py"],
            cwd=root,
            env=child_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        await eventually(lambda: _logged(log_path, "worker work: running", 1), timeout=30)
        ops = import_fresh(root, "ops.generated")
        from ops.jobs import Task

        first = await ops.enqueue_task(Task(ms=7))
        assert await first.wait_until_finished(timeout=20) == 7
        jobs = root / "ops" / "jobs.py"
        time.sleep(0.2)
        jobs.write_text(
            jobs.read_text().replace(
                "    return job.payload.ms\n", "    return job.payload.ms * 2\n"
            )
        )
        await eventually(lambda: _logged(log_path, "worker work: running", 2), timeout=30)
        second = await ops.enqueue_task(Task(ms=7))
        assert await second.wait_until_finished(timeout=20) == 14  # the new code runs
        jobs.write_text(jobs.read_text().replace('"task": {', '"longTask": {'))
        await eventually(lambda: _logged(log_path, f"wrote {producers}", 1), timeout=30)
        await eventually(lambda: _logged(log_path, "worker work: running", 3), timeout=30)
        assert "enqueue_long_task" in (root / "ops" / "generated" / "producers.py").read_text()
        await ops.close_connections()
    finally:
        dev.send_signal(signal.SIGTERM)
        code = dev.wait(60)
        purge_modules("ops")
    assert code == 0, log_path.read_text()
    text = log_path.read_text()
    assert text.count("stopped gracefully") == 3  # each restart, then the end
    assert text.count(str(producers)) == 1  # one line per written file, not two
    assert text.count("watchfiles") == 0  # dev says what changed itself


async def _logged(path: Path, text: str, times: int) -> bool:
    return path.read_text(errors="replace").count(text) >= times


async def test_ctrl_c_lets_running_jobs_finish(tmp_path: Path, redis_env: RedisSource) -> None:
    import os

    root = generated_case("ops", tmp_path, "ops/jobs.py")
    log_path = tmp_path / "dev.log"
    with log_path.open("wb") as log:
        dev = subprocess.Popen(  # a terminal's process group, as a shell would make it
            [sys.executable, "-m", "bullmq_codegen", "workers", "dev", "--config", "ops/jobs.py"],
            cwd=root,
            env=child_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    ops = import_fresh(root, "ops.generated")
    try:
        await eventually(lambda: _logged(log_path, "worker work: running", 1), timeout=30)
        from ops.jobs import Task

        job = await ops.enqueue_task(Task(ms=2000))
        await eventually(lambda: _active(ops, job.id), timeout=20)
        os.killpg(dev.pid, signal.SIGINT)  # Ctrl-C reaches the whole terminal group
        assert dev.wait(60) == 0
        assert await job.wait_until_finished(timeout=1) == 2000  # it finished, it was not abandoned
        text = log_path.read_text()
        assert "stopping at once" not in text
        assert "SIGINT: stopping; running jobs get 30 s to finish" in text  # what was pressed
        assert "SIGTERM" not in text
        assert "stopped gracefully" in text
    finally:
        if dev.poll() is None:
            dev.kill()
        await ops.close_connections()
        purge_modules("ops")


async def _active(ops: object, job_id: str) -> bool:
    return await ops.work_queue.get_job_state(job_id) == "active"  # type: ignore[attr-defined]
