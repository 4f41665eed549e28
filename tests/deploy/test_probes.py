"""What a probe sees from the first second of a worker process: live, and not ready until Redis.

A Kubernetes liveness probe must not restart a pod whose runner is still waiting
for Redis (within its own ``redisTimeout``), so the health server listens before
Redis is waited for.
"""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bullmq_codegen.testing import RedisServer, find_redis_server, free_port

from ..runner.support import RunnerProcess
from .test_deploy import project


def get(port: int, path: str) -> tuple[int, str] | None:
    """Status and body of ``GET path``; ``None`` while nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode()
    except OSError:
        return None


class Runner(RunnerProcess):
    """``bullmq-codegen workers start --health-port`` against a Redis port nothing listens on."""

    def __init__(self, root: Path, redis_port: int, prefix: str) -> None:
        self.health_port = free_port()
        self.started_at = time.monotonic()
        environment = {
            **os.environ,
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(redis_port),
            "BULLMQ_PREFIX": prefix,
            "WORKER_REDIS_TIMEOUT": "120000",
        }
        super().__init__(root, environment, "--health-port", str(self.health_port), config=None)

    def first_answer(self, path: str, timeout: float = 30) -> tuple[int, str]:
        """The first answer to ``path`` (polled; the process must stay up meanwhile)."""
        deadline = time.monotonic() + timeout
        while (answer := get(self.health_port, path)) is None:
            assert self.process.poll() is None, self.log
            assert time.monotonic() < deadline, f"no answer on {path}:\n{self.log}"
            time.sleep(0.02)
        return answer


@pytest.fixture
def runner(tmp_path: Path, prefix: str) -> Iterator[tuple[Runner, int]]:
    root = project(tmp_path, "")
    redis_port = free_port()
    started = Runner(root, redis_port, prefix)
    yield started, redis_port
    started.stop()


def test_live_before_redis_answers_then_ready_once_it_does(runner: tuple[Runner, int]) -> None:
    process, redis_port = runner
    live = process.first_answer("/health/live")
    seconds = time.monotonic() - process.started_at
    print(f"\n/health/live answered {seconds:.2f} s after the process started, Redis down")
    assert live[0] == 200
    # not ready: first while the generated code is checked and loaded, then for want of Redis
    while True:
        status, body = get(process.health_port, "/health/ready") or (0, "")
        assert status == 503
        ready = json.loads(body)
        if ready["status"] != "starting":
            break
        assert ready["reason"] == "loading the generated workers"
        time.sleep(0.02)
    assert ready["status"] == "not ready"
    # why: Redis refuses connections (on a loaded machine the probe's own time limit may
    # run out first, which reads as a timeout: unreachable either way)
    assert "Connection" in ready["redis"] or "Timeout" in ready["redis"], ready
    assert ready["workers"] == {"dbOperations": "starting", "emailSend": "starting"}
    status, body = get(process.health_port, "/health/workers") or (0, "")
    assert status == 200
    workers = json.loads(body)
    assert workers["process"] == {
        "dbOperations": {"state": "starting"},
        "emailSend": {"state": "starting"},
    }
    assert workers["heartbeats"]["error"].startswith("Redis unreachable")
    status, body = get(process.health_port, "/metrics") or (0, "")
    assert status == 200
    assert "bullmq_" in body

    executable = find_redis_server()
    assert executable is not None
    redis = RedisServer(executable[0], port=redis_port)
    redis.start()
    try:
        deadline = time.monotonic() + 60
        while (get(process.health_port, "/health/ready") or (0, ""))[0] != 200:
            assert process.process.poll() is None, process.log
            assert time.monotonic() < deadline, process.log
            time.sleep(0.1)
        assert get(process.health_port, "/health/live") == (200, '{\n  "status": "alive"\n}\n')
        process.process.send_signal(signal.SIGTERM)
        assert process.process.wait(60) == 0, process.log
    finally:
        redis.stop()
    assert "stopped gracefully" in process.log


def test_a_stop_while_waiting_for_redis_is_clean(runner: tuple[Runner, int]) -> None:
    process, _ = runner
    assert process.first_answer("/health/live")[0] == 200
    process.process.send_signal(signal.SIGTERM)
    assert process.process.wait(30) == 0, process.log
    assert get(process.health_port, "/health/live") is None  # the health server closed too
    assert "Traceback" not in process.log
