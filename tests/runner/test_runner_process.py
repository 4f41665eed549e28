"""``bullmq-codegen workers start`` as a process: signals, faults, health, scale-out.

Figures (recovery times) are printed; run with ``-s`` to see them.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest
from redis import Redis as SyncRedis
from redis.asyncio import Redis

from bullmq_codegen.testing import RedisServer, RedisSource, find_redis_server, free_port

from ..helpers import eventually, generated_case, import_fresh, purge_modules
from .support import Records, RunnerProcess, child_env, http_get

pytestmark = pytest.mark.slow

JOBS = 1000


def durations(count: int) -> list[int]:
    """Jobs of a few ms, every 25th of a second."""
    return [1000 if index % 25 == 0 else 5 for index in range(count)]


async def enqueue(ops: ModuleType, count: int = JOBS) -> list[str]:
    from ops.jobs import Task

    jobs = await ops.enqueue_task_bulk([Task(ms=ms) for ms in durations(count)])
    return [job.id for job in jobs]


async def at_least(records: Records, count: int, timeout: float = 60) -> None:
    async def enough() -> bool:
        return await records.finished_count() >= count

    await eventually(enough, timeout=timeout, interval=0.05)


async def test_disabled_workers_start_nothing(ops_root: Path, redis_env: RedisSource) -> None:
    runner = RunnerProcess(ops_root, child_env(WORKER_ENABLED="false"))
    assert runner.wait(30) == 0
    assert "workers are disabled (WORKER_ENABLED=false): starting nothing" in runner.log


async def test_stale_generated_code_is_refused(ops_root: Path, redis_env: RedisSource) -> None:
    jobs = ops_root / "ops" / "jobs.py"
    jobs.write_text(jobs.read_text().replace('"task": {', '"taskRenamed": {'))
    runner = RunnerProcess(ops_root, child_env())
    assert runner.wait(30) == 2
    assert "does not match the definitions" in runner.log
    assert "Run `bullmq-codegen generate`" in runner.log


async def test_sigterm_mid_load_loses_nothing_and_runs_nothing_twice(
    ops_root: Path, ops: ModuleType, records: Records
) -> None:
    ids = await enqueue(ops)
    first = RunnerProcess(ops_root, child_env(), name="first")
    await first.started()
    await at_least(records, 300)
    first.signal(signal.SIGTERM)
    assert first.wait(60) == 0, first.log
    assert "stopped gracefully" in first.log
    started, finished = await records.starts(), await records.finishes()
    assert sorted(started) == sorted(finished)  # every job taken before the signal finished
    assert len(finished) < JOBS  # the signal came mid-load
    second = RunnerProcess(ops_root, child_env(), name="second")
    await second.started()
    await at_least(records, JOBS)
    second.signal(signal.SIGTERM)
    assert second.wait(60) == 0, second.log
    finished = await records.finishes()
    assert Counter(finished) == Counter(ids)  # all completed, each once
    assert (await ops.work_queue.counts()).completed == JOBS


async def test_past_the_timeout_jobs_are_left_to_the_stalled_check(
    ops_root: Path, ops: ModuleType, records: Records
) -> None:
    from ops.jobs import Task

    job = await ops.enqueue_task(Task(ms=6000))
    runner = RunnerProcess(ops_root, child_env(WORKER_GRACEFUL_SHUTDOWN_TIMEOUT="500"))
    await runner.started()
    await eventually(lambda: _started(records, job.id), timeout=10)
    runner.signal(signal.SIGTERM)
    assert runner.wait(30) == 3
    assert f"left active: queue=work name=task id={job.id}" in runner.log
    assert await job.state() == "active"
    again = RunnerProcess(ops_root, child_env(), name="again")
    await again.started()
    assert await job.wait_until_finished(timeout=30) == 6000  # recovered, run again
    again.signal(signal.SIGTERM)
    assert again.wait(60) == 0


async def _started(records: Records, job_id: str) -> bool:
    return job_id in await records.starts()


async def test_a_second_signal_stops_at_once(
    ops_root: Path, ops: ModuleType, records: Records
) -> None:
    from ops.jobs import Task

    job = await ops.enqueue_task(Task(ms=20_000))
    runner = RunnerProcess(ops_root, child_env())
    await runner.started()
    await eventually(lambda: _started(records, job.id), timeout=10)
    runner.signal(signal.SIGTERM)
    await asyncio.sleep(0.5)
    runner.signal(signal.SIGINT)
    assert runner.wait(30) == 3  # the 20 s job was abandoned, not waited for
    assert "SIGINT again: stopping at once" in runner.log
    assert f"left active: queue=work name=task id={job.id}" in runner.log


async def test_sigkill_mid_load_then_a_new_process_recovers_every_job(
    ops_root: Path, ops: ModuleType, records: Records
) -> None:
    ids = await enqueue(ops)
    victim = RunnerProcess(ops_root, child_env(), name="victim")
    await victim.started()
    await at_least(records, 300)
    victim.signal(signal.SIGKILL)
    victim.wait(10)
    killed_at = time.monotonic()
    context = ops.work_queue.context()
    completed_before = set(await context.client.zrange(context.keys["completed"], 0, -1))
    started_before = set(await records.starts())
    cut_short = started_before - set(await records.finishes())
    assert cut_short  # jobs were running when the process died
    survivor = RunnerProcess(ops_root, child_env(), name="survivor")
    await survivor.started()

    async def recovered() -> bool:
        return cut_short <= set(await records.finishes())

    await eventually(recovered, timeout=60, interval=0.05)
    recovery = time.monotonic() - killed_at
    await eventually(lambda: _all_finished(records, ids), timeout=60, interval=0.05)
    survivor.signal(signal.SIGTERM)
    assert survivor.wait(60) == 0
    finished = Counter(await records.finishes())
    assert set(finished) == set(ids)
    twice = {job_id for job_id, count in finished.items() if count > 1}
    assert not twice & completed_before  # a job completed before the kill never runs again
    assert twice <= started_before - completed_before  # only jobs the kill cut short did
    print(
        f"\nSIGKILL recovery: {len(cut_short)} jobs were running; all completed "
        f"{recovery:.1f} s after the kill (lockDuration 2.0 s, stalledInterval 1.0 s, "
        f"new process start included)"
    )


async def _all_finished(records: Records, ids: list[str]) -> bool:
    return set(ids) <= set(await records.finishes())


async def test_several_processes_run_every_job_exactly_once(
    ops_root: Path, ops: ModuleType, records: Records
) -> None:
    runners = [RunnerProcess(ops_root, child_env(), name=f"scale{index}") for index in range(3)]
    for runner in runners:
        await runner.started()
    ids = await enqueue(ops)  # once all three wait for jobs
    await eventually(lambda: _all_finished(records, ids), timeout=90, interval=0.05)
    for runner in runners:
        runner.signal(signal.SIGTERM)
    assert [runner.wait(60) for runner in runners] == [0, 0, 0]
    tags = await records.client.lrange(f"{records.prefix}:test:finishes", 0, -1)
    assert Counter(tag.split(":")[0] for tag in tags) == Counter(ids)
    assert len({tag.split(":")[1] for tag in tags}) == 3  # every process took a share


async def test_redis_unreachable_at_start_exits_without_busy_looping(
    ops_root: Path, prefix: str
) -> None:
    started = time.monotonic()
    runner = RunnerProcess(
        ops_root,
        child_env(
            BULLMQ_TEST_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
            BULLMQ_PREFIX=prefix,
            WORKER_REDIS_TIMEOUT="3000",
        ),
    )
    assert runner.wait(60) == 1
    elapsed = time.monotonic() - started
    assert "Redis at redis://127.0.0.1:" in runner.log
    assert "unreachable for 3 s" in runner.log
    assert elapsed >= 3  # it waited the configured bound
    attempts = runner.log.count("unreachable (")
    assert 2 <= attempts <= 8, attempts  # backoff 0.25, 0.5, 1, 2 s...: it did not spin
    print(f"\nRedis unreachable at start: exit 1 after {elapsed:.1f} s, {attempts} attempts")


async def test_redis_restart_mid_load(
    ops_root: Path, own_redis: RedisServer, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BULLMQ_TEST_REDIS_URL", own_redis.url)
    monkeypatch.setenv("BULLMQ_PREFIX", prefix)
    ops = import_fresh(ops_root, "ops.generated")
    client = Redis.from_url(own_redis.url, decode_responses=True)
    records = Records(client, prefix)
    try:
        ids = await enqueue(ops)
        await ops.close_connections()
        port = free_port()
        runner = RunnerProcess(ops_root, child_env(), "--health-port", str(port))
        await runner.started()
        await at_least(records, 300)
        await client.aclose()
        own_redis.stop()
        await asyncio.sleep(1.5)
        live = http_get(port, "/health/live")
        ready = http_get(port, "/health/ready")
        own_redis.start()
        client = Redis.from_url(own_redis.url, decode_responses=True)
        records = Records(client, prefix)
        assert live[0] == 200
        assert ready[0] == 503  # not ready while Redis is away, but alive
        await eventually(lambda: _all_finished(records, ids), timeout=90, interval=0.1)
        assert runner.process.poll() is None  # reconnected, no restart
        assert http_get(port, "/health/ready")[0] == 200
        runner.signal(signal.SIGTERM)
        assert runner.wait(60) == 0, runner.log
        assert "Redis reachable again" in runner.log
        assert set(await records.finishes()) == set(ids)
    finally:
        await client.aclose()
        await ops.close_connections()
        purge_modules("ops")


async def test_health_endpoints_and_metrics(
    ops_root: Path, ops: ModuleType, records: Records
) -> None:
    port = free_port()
    runner = RunnerProcess(
        ops_root, child_env(WORKER_HEALTH_CHECK_INTERVAL="500"), "--health-port", str(port)
    )
    await runner.started()
    ids = await enqueue(ops, 50)
    await eventually(lambda: _all_finished(records, ids), timeout=30)
    assert http_get(port, "/health/live") == (200, {"status": "alive"})
    status, ready = http_get(port, "/health/ready")
    assert status == 200
    assert ready == {"status": "ready", "redis": "ok", "workers": {"work": "running"}}
    status, workers = http_get(port, "/health/workers")
    assert status == 200
    assert isinstance(workers, dict)
    process = workers["process"]
    assert isinstance(process, dict)
    assert process["work"]["processed"] == 50  # type: ignore[index]
    heartbeats = workers["heartbeats"]
    assert heartbeats["status"] == "ok"  # type: ignore[index]
    status, metrics = http_get(port, "/metrics")
    assert status == 200
    assert isinstance(metrics, str)
    assert 'bullmq_jobs_completed_total{job_name="task",queue="work"} 50.0' in metrics
    assert 'bullmq_queue_jobs{queue="work",state="completed"} 50.0' in metrics
    assert 'bullmq_job_duration_seconds_count{job_name="task",queue="work"} 50.0' in metrics
    assert http_get(port, "/nope")[0] == 404
    await asyncio.sleep(1.2)  # a health log line every 500 ms
    runner.signal(signal.SIGTERM)
    assert runner.wait(60) == 0
    assert "health: worker work running, processed 50, failed 0" in runner.log
    report = await ops.get_worker_health()  # read from Redis, no worker here
    assert report["queues"]["work"]["alive"] == 0  # it said goodbye


async def test_passwords_never_reach_logs_or_health_output(tmp_path: Path, prefix: str) -> None:
    found = find_redis_server()
    assert found is not None
    (tmp_path / "secured").mkdir()
    with RedisServer(
        found[0], directory=tmp_path / "secured", extra_args=["--requirepass", "s3cret-pw"]
    ) as server:
        root = generated_case("ops", tmp_path, "ops/jobs.py")
        url = f"redis://:s3cret-pw@127.0.0.1:{server.port}/0"
        port = free_port()
        runner = RunnerProcess(
            root,
            child_env(BULLMQ_TEST_REDIS_URL=url, BULLMQ_PREFIX=prefix),
            "--health-port",
            str(port),
        )
        try:
            await runner.started()
            outputs = [
                json.dumps(http_get(port, path))
                for path in ("/health/ready", "/health/workers", "/metrics")
            ]
        finally:
            runner.signal(signal.SIGTERM)
            runner.wait(60)
        assert f"redis://***@127.0.0.1:{server.port}/0" in runner.log
        for text in [runner.log, *outputs]:
            assert "s3cret-pw" not in text


async def test_production_checks_warn_about_eviction_and_persistence(
    tmp_path: Path, prefix: str
) -> None:
    found = find_redis_server()
    assert found is not None
    (tmp_path / "lru").mkdir()
    with RedisServer(
        found[0], directory=tmp_path / "lru", extra_args=["--maxmemory-policy", "allkeys-lru"]
    ) as server:
        root = generated_case("ops", tmp_path, "ops/jobs.py")
        runner = RunnerProcess(
            root,
            child_env(BULLMQ_TEST_REDIS_URL=server.url, BULLMQ_PREFIX=prefix, APP_ENV="production"),
        )
        try:
            await runner.started()
        finally:
            runner.signal(signal.SIGTERM)
            runner.wait(60)
    assert "Redis maxmemory-policy is 'allkeys-lru'" in runner.log
    assert "Redis append-only file (AOF) is off" in runner.log


async def test_a_cluster_node_reached_without_cluster_true_is_named(
    tmp_path: Path, prefix: str
) -> None:
    """A one-node cluster serves every slot, so the jobs run; the start-up checks still say the
    connection should be a cluster connection (to follow slots that move)."""
    found = find_redis_server()
    assert found is not None
    (tmp_path / "node").mkdir()
    with RedisServer(
        found[0],
        port=free_port(also_free_at=10_000),  # the cluster bus listens at port + 10000
        directory=tmp_path / "node",
        extra_args=["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"],
    ) as server:
        node = SyncRedis.from_url(server.url, decode_responses=True)
        node.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        deadline = time.monotonic() + 30
        while "cluster_state:ok" not in node.execute_command("CLUSTER", "INFO"):
            assert time.monotonic() < deadline, "the one-node cluster did not come up"
            time.sleep(0.05)
        node.close()
        root = generated_case("ops", tmp_path, "ops/jobs.py")
        runner = RunnerProcess(
            root, child_env(BULLMQ_TEST_REDIS_URL=server.url, BULLMQ_PREFIX=prefix)
        )
        try:
            await runner.started()
        finally:
            runner.signal(signal.SIGTERM)
            runner.wait(60)
    assert (
        'Redis is a Redis Cluster node but the definitions\' connection does not say so: set "cluster": True'
        in runner.log
    )


def _slotless_cluster_node(directory: Path) -> RedisServer:
    """A Redis Cluster node that serves no slot yet: every key command gets ``CLUSTERDOWN``."""
    found = find_redis_server()
    assert found is not None
    directory.mkdir()
    return RedisServer(
        found[0],
        port=free_port(also_free_at=10_000),  # the cluster bus listens at port + 10000
        directory=directory,
        extra_args=["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"],
    )


async def test_a_cluster_that_serves_the_queue_late_is_waited_for(
    tmp_path: Path, prefix: str
) -> None:
    """CLUSTERDOWN while the workers start (a cluster failing over, or not formed yet) is waited
    for, as an unreachable Redis is: once the slots are served, the workers start and run jobs."""
    with _slotless_cluster_node(tmp_path / "node") as server:
        root = generated_case("ops", tmp_path, "ops/jobs.py")
        env = child_env(BULLMQ_TEST_REDIS_URL=server.url, BULLMQ_PREFIX=prefix)
        runner = RunnerProcess(root, env)
        try:
            await eventually(
                lambda: _log_has(runner.log_path, "cannot start the workers of work yet"),
                timeout=30,
            )
            node = SyncRedis.from_url(server.url, decode_responses=True)
            node.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
            node.close()
            await runner.started()
        finally:
            runner.signal(signal.SIGTERM)
            code = runner.wait(60)
    assert code == 0, runner.log
    assert "ClusterDownError: Hash slot not served" in runner.log
    assert "Traceback" not in runner.log


async def test_a_cluster_that_never_serves_the_queue_is_one_fatal_line(
    tmp_path: Path, prefix: str
) -> None:
    with _slotless_cluster_node(tmp_path / "node") as server:
        root = generated_case("ops", tmp_path, "ops/jobs.py")
        env = child_env(
            BULLMQ_TEST_REDIS_URL=server.url, BULLMQ_PREFIX=prefix, WORKER_REDIS_TIMEOUT="2000"
        )
        runner = RunnerProcess(root, env)
        code = runner.wait(60)
    assert code == 1, runner.log
    assert (
        "fatal: cannot start the workers of work: Redis refused "
        "(ClusterDownError: Hash slot not served)" in runner.log
    )
    assert "Traceback" not in runner.log


async def test_a_taken_health_port_is_bad_input(ops_root: Path, redis_env: RedisSource) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        runner = RunnerProcess(ops_root, child_env(), "--health-port", str(port))
        assert runner.wait(60) == 2
    assert f"cannot serve health on 127.0.0.1:{port}" in runner.log
    assert "worker work: running" not in runner.log  # refused before taking any job


async def test_python_dash_m_runs_the_generated_package(
    ops_root: Path, ops: ModuleType, records: Records
) -> None:
    log_path = ops_root / "dash-m.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ops.generated"],
            cwd=ops_root,
            env=child_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        await eventually(lambda: _log_has(log_path, "worker work: running"), timeout=30)
        ids = await enqueue(ops, 20)
        await eventually(lambda: _all_finished(records, ids), timeout=30)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
    # the runner's event loop: timers to the microsecond (bullmq_codegen.runtime.event_loop)
    assert await records.selectors() == ["PreciseSelector"]
    jobs = ops_root / "ops" / "jobs.py"
    jobs.write_text(jobs.read_text().replace('"task": {', '"taskRenamed": {'))
    stale = subprocess.run(
        [sys.executable, "-m", "ops.generated"],
        cwd=ops_root,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert stale.returncode == 2
    assert "does not match the definitions" in stale.stderr


async def _log_has(path: Path, text: str) -> bool:
    return text in path.read_text(errors="replace")
