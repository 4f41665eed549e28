"""Deployment files: each parsed and checked for the values that matter; PM2 for real."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from redis import Redis

from bullmq_codegen.testing import RedisSource

from ..helpers import EXAMPLES

GRACE_MS = 4000


def project(tmp_path: Path, redis: RedisSource, prefix: str) -> Path:
    """The example app in a project of its own, configured for deployment."""
    root = tmp_path / "shop"
    shutil.copytree(
        EXAMPLES / "app", root / "app", ignore=shutil.ignore_patterns("__pycache__", "generated")
    )
    host, port = redis.url.removeprefix("redis://").split("/")[0].split(":")
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "shop"
            version = "1.0.0"

            [tool.bullmq-codegen]
            config = "app/queues/queue_definitions.py"

            [tool.bullmq-codegen.workers]
            gracefulShutdownTimeout = {GRACE_MS}

            [tool.bullmq-codegen.deploy]
            python = "{sys.executable}"
            workerInstances = 1
            env = {{REDIS_HOST = "{host}", REDIS_PORT = "{port}", BULLMQ_PREFIX = "{prefix}"}}
            """
        )
    )
    generate = cli(root, "generate")
    assert generate.returncode == 0, generate.stderr
    return root


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bullmq_codegen", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def shop(tmp_path: Path, redis: RedisSource, prefix: str) -> Path:
    return project(tmp_path, redis, prefix)


FILES = {
    "pm2": "ecosystem.config.js",
    "compose": "docker-compose.yml",
    "systemd": "shop-workers.service",
    "kubernetes": "kubernetes.yaml",
}


def deploy(root: Path, target: str) -> str:
    """Run ``bullmq-codegen deploy TARGET``; the file it wrote."""
    done = cli(root, "deploy", target)
    assert done.returncode == 0, done.stderr
    path = root / "deploy" / FILES[target]
    assert done.stdout.strip() == f"wrote {path}"
    return path.read_text()


def test_compose(shop: Path) -> None:
    compose: dict[str, Any] = yaml.safe_load(deploy(shop, "compose"))
    services = compose["services"]
    assert set(services) == {"redis", "api", "workers"}
    assert services["redis"]["command"] == [
        "redis-server",
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--maxmemory-policy",
        "noeviction",
    ]
    assert "healthcheck" in services["redis"]
    assert "healthcheck" in services["workers"]
    assert services["api"]["environment"]["WORKER_ENABLED"] == "false"
    assert services["workers"]["environment"]["WORKER_ENABLED"] == "true"
    assert services["workers"]["stop_grace_period"] == f"{GRACE_MS // 1000 + 5}s"
    assert services["workers"]["command"][-5:] == [
        "start",
        "--health-port",
        "8081",
        "--health-host",
        "0.0.0.0",
    ]
    assert services["api"]["command"] == ["python", "-m", "app.api"]


def test_systemd(shop: Path) -> None:
    text = deploy(shop, "systemd")
    entries: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            entries.setdefault(key, []).append(value)
    assert entries["User"] == ["shop"]  # not root
    assert entries["Restart"] == ["on-failure"]
    assert entries["TimeoutStopSec"] == [str(GRACE_MS // 1000 + 5)]
    assert entries["KillSignal"] == ["SIGTERM"]
    assert entries["ExecStart"] == [f"{sys.executable} -m bullmq_codegen workers start"]
    assert "WORKER_ENABLED=true" in entries["Environment"]
    assert (shop / "deploy" / "shop-workers.service").is_file()


def test_kubernetes(shop: Path) -> None:
    documents = [doc for doc in yaml.safe_load_all(deploy(shop, "kubernetes")) if doc]
    workers = {
        doc["metadata"]["name"]: doc
        for doc in documents
        if doc["metadata"]["name"].startswith("shop-workers-")
    }
    assert set(workers) == {
        "shop-workers-db-operations",
        "shop-workers-email-send",
    }  # one group per queue
    spec = workers["shop-workers-email-send"]["spec"]["template"]["spec"]
    container = spec["containers"][0]
    assert spec["terminationGracePeriodSeconds"] == GRACE_MS // 1000 + 5
    assert container["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "health"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "health"}
    assert "--queue" in container["command"]
    assert "emailSend" in container["command"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"name": "tmp", "mountPath": "/tmp"} in container[
        "volumeMounts"
    ]  # the start-up check writes there
    assert {"name": "tmp", "emptyDir": {}} in spec["volumes"]
    assert any(doc["metadata"]["name"] == "shop-api" for doc in documents)


def test_pm2_file(shop: Path) -> None:
    deploy(shop, "pm2")
    apps = _pm2_apps(shop)
    api, workers = apps
    assert (api["name"], workers["name"]) == ("shop-api", "shop-workers")
    assert workers["kill_timeout"] == (GRACE_MS // 1000 + 5) * 1000
    assert workers["env"]["WORKER_ENABLED"] == "true"
    assert api["env"]["WORKER_ENABLED"] == "false"
    assert workers["env_production"]["APP_ENV"] == "production"
    assert (api["instances"], workers["instances"]) == (
        1,
        1,
    )  # one API process per port unless told
    assert Path(workers["cwd"]) == shop


def _pm2_apps(shop: Path) -> list[dict[str, Any]]:
    script = "console.log(JSON.stringify(require(process.argv[1]).apps))"
    done = subprocess.run(
        ["node", "-e", script, str(shop / "deploy" / "ecosystem.config.js")],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "WORKER_INSTANCES": "1"},
    )
    return json.loads(done.stdout)


@pytest.fixture(scope="session")
def pm2() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are needed to run PM2")
    cache = (
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        / "bullmq-codegen-tests"
        / "pm2-7.0.4"
    )
    binary = cache / "node_modules" / ".bin" / "pm2"
    if not binary.exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--silent", "--no-audit", "--no-fund", "pm2@7.0.4"],
            cwd=cache,
            check=True,
            timeout=300,
        )
    return binary


@pytest.fixture
def pm2_home(tmp_path: Path, pm2: Path) -> Iterator[dict[str, str]]:
    environment = {**os.environ, "PM2_HOME": str(tmp_path / "pm2home"), "WORKER_INSTANCES": "1"}
    yield environment
    subprocess.run(
        [str(pm2), "kill"], env=environment, capture_output=True, check=False, timeout=60
    )


def _jlist(pm2: Path, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run([str(pm2), "jlist"], env=env, capture_output=True, text=True, check=True)
    (app,) = [app for app in json.loads(done.stdout) if app["name"] == "shop-workers"]
    return app


def _completed(client: Redis, prefix: str) -> int:
    return int(client.zcard(f"{prefix}:emailSend:completed"))


def _enqueue(shop: Path, count: int) -> None:
    script = textwrap.dedent(
        f"""\
        import asyncio
        from app.queues.generated import enqueue_after_sign_up_email_bulk, close_connections
        from app.queues.queue_definitions import EmailSend
        async def main():
            await enqueue_after_sign_up_email_bulk([EmailSend(to=f"u{{i}}@example.com", template="w") for i in range({count})])
            await close_connections()
        asyncio.run(main())
        """
    )
    env = {**os.environ}
    for line in (shop / "pyproject.toml").read_text().splitlines():
        if line.startswith("env = "):
            for pair in line.removeprefix("env = {").removesuffix("}").split(", "):
                key, value = pair.split(" = ")
                env[key] = value.strip('"')
    subprocess.run([sys.executable, "-c", script], cwd=shop, env=env, check=True, timeout=60)


def _wait(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.mark.slow
def test_pm2_restarts_a_killed_worker_and_stops_it_gracefully(
    shop: Path, pm2: Path, pm2_home: dict[str, str], redis: RedisSource, prefix: str
) -> None:
    deploy(shop, "pm2")
    started = subprocess.run(
        [
            str(pm2),
            "start",
            "deploy/ecosystem.config.js",
            "--only",
            "shop-workers",
            "--env",
            "production",
        ],
        cwd=shop,
        env=pm2_home,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert started.returncode == 0, started.stdout + started.stderr
    client = Redis.from_url(redis.url, decode_responses=True)
    _enqueue(shop, 50)
    _wait(lambda: _completed(client, prefix) >= 50, 60)
    first = _jlist(pm2, pm2_home)
    os.kill(first["pid"], signal.SIGKILL)
    _wait(
        lambda: (
            _jlist(pm2, pm2_home)["pid"] not in (0, first["pid"])
            and _jlist(pm2, pm2_home)["pm2_env"]["status"] == "online"
        ),
        60,
    )
    assert _jlist(pm2, pm2_home)["pm2_env"]["restart_time"] >= 1
    _enqueue(shop, 50)
    _wait(lambda: _completed(client, prefix) >= 100, 60)  # jobs keep completing after the restart
    stopped = subprocess.run(
        [str(pm2), "stop", "shop-workers"],
        env=pm2_home,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    log = Path(_jlist(pm2, pm2_home)["pm2_env"]["pm_err_log_path"]).read_text()
    assert "SIGINT: stopping; running jobs get 4 s to finish" in log
    assert log.rstrip().endswith("stopped gracefully")
    client.close()
