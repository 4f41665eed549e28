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
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from redis import Redis

from bullmq_codegen.testing import RedisSource, free_port

from ..helpers import EXAMPLES
from ..pm2_support import pm2_binary

GRACE_MS = 4000


def project(tmp_path: Path, deploy_table: str, *, name: str = "shop") -> Path:
    """The example app in a project of its own (with a uv.lock), configured for deployment."""
    root = tmp_path / name
    shutil.copytree(
        EXAMPLES / "app", root / "app", ignore=shutil.ignore_patterns("__pycache__", "generated")
    )
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "{name}"
            version = "1.0.0"
            requires-python = ">=3.11"

            [tool.bullmq-codegen]
            config = "app/queues/queue_definitions.py"

            [tool.bullmq-codegen.workers]
            gracefulShutdownTimeout = {GRACE_MS}

            [tool.bullmq-codegen.deploy]
            """
        )
        + textwrap.dedent(deploy_table)
    )
    subprocess.run(["uv", "lock", "--offline", "--quiet"], cwd=root, check=True, timeout=60)
    generate = cli(root, "generate")
    assert generate.returncode == 0, generate.stderr
    return root


def redis_env(redis: RedisSource, prefix: str) -> dict[str, str]:
    host, port = redis.url.removeprefix("redis://").split("/")[0].split(":")
    return {"REDIS_HOST": host, "REDIS_PORT": port, "BULLMQ_PREFIX": prefix}


def cli(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bullmq_codegen", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env},
    )


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A project with no API and nothing but the defaults (and a short graceful timeout)."""
    return project(tmp_path, "workerInstances = 1\n")


def deploy(root: Path, target: str, *names: str, **env: str) -> dict[str, str]:
    """Run ``bullmq-codegen deploy TARGET``: the files it wrote (name → text)."""
    done = cli(root, "deploy", target, **env)
    assert done.returncode == 0, done.stderr
    paths = [root / "deploy" / name for name in names]
    assert done.stdout.splitlines() == [f"wrote {path}" for path in paths]
    return {path.name: path.read_text() for path in paths}


def test_compose(shop: Path) -> None:
    files = deploy(shop, "compose", "docker-compose.yml", "Dockerfile", "Dockerfile.dockerignore")
    compose: dict[str, Any] = yaml.safe_load(files["docker-compose.yml"])
    services = compose["services"]
    assert set(services) == {"redis", "workers"}  # no apiCommand: no API service
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
    workers = services["workers"]
    # `docker compose up` builds the image from the project with the Dockerfile beside it
    assert workers["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert workers["image"] == "shop:latest"
    assert workers["environment"]["WORKER_ENABLED"] == "true"
    assert workers["stop_grace_period"] == f"{GRACE_MS // 1000 + 5}s"
    assert workers["healthcheck"]["start_period"] == "90s"  # the 60 s Redis wait, and 30 s
    assert workers["command"] == [
        "python",
        "-m",
        "bullmq_codegen",
        "workers",
        "start",
        "--health-port",
        "8081",
        "--health-host",
        "0.0.0.0",
    ]


def test_compose_with_an_api(tmp_path: Path) -> None:
    root = project(tmp_path, 'apiCommand = "python -m app.api"\napiPort = 8123\n')
    files = deploy(root, "compose", "docker-compose.yml", "Dockerfile", "Dockerfile.dockerignore")
    services = yaml.safe_load(files["docker-compose.yml"])["services"]
    api = services["api"]
    assert api["command"] == ["python", "-m", "app.api"]  # the image's interpreter
    assert api["environment"]["WORKER_ENABLED"] == "false"
    assert api["ports"] == ["8123:8123"]
    assert api["build"] == services["workers"]["build"]


def test_systemd(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        f"""\
        python = "{sys.executable}"
        env = {{BULLMQ_PREFIX = "shop"}}
        """,
    )
    text = deploy(root, "systemd", "shop-workers.service")["shop-workers.service"]
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
    assert "BULLMQ_PREFIX=shop" in entries["Environment"]
    # what the definitions read is named, to be set in the environment file
    assert "#   REDIS_HOST, REDIS_PORT, REDIS_PASSWORD, REDIS_DB, BULLMQ_PREFIX\n" in text


def test_systemd_defaults_to_the_venv_of_the_workdir(shop: Path) -> None:
    text = deploy(shop, "systemd", "shop-workers.service")["shop-workers.service"]
    assert "ExecStart=/srv/shop/.venv/bin/python -m bullmq_codegen workers start\n" in text


def test_kubernetes(shop: Path) -> None:
    text = deploy(shop, "kubernetes", "kubernetes.yaml")["kubernetes.yaml"]
    documents = [doc for doc in yaml.safe_load_all(text) if doc]
    by_name = {doc["metadata"]["name"]: doc for doc in documents}
    assert set(by_name) == {
        "shop-config",
        "shop-workers-db-operations",
        "shop-workers-email-send",
    }  # one Deployment per queue; no API without apiCommand
    assert by_name["shop-config"]["data"] == {"REDIS_HOST": "redis", "REDIS_PORT": "6379"}
    spec = by_name["shop-workers-email-send"]["spec"]["template"]["spec"]
    container = spec["containers"][0]
    assert container["image"] == "shop:latest"
    assert spec["terminationGracePeriodSeconds"] == GRACE_MS // 1000 + 5
    startup = container["startupProbe"]
    assert startup["httpGet"] == {"path": "/health/ready", "port": "health"}
    # the runner's own 60 s Redis wait fits in the startup probe's budget
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 60 + 30
    assert container["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "health"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "health"}
    assert container["envFrom"] == [
        {"configMapRef": {"name": "shop-config"}},
        {"secretRef": {"name": "shop-secrets", "optional": True}},
    ]
    assert container["command"][-6:] == [
        "--queue",
        "emailSend",
        "--health-port",
        "8081",
        "--health-host",
        "0.0.0.0",
    ]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert {"name": "tmp", "emptyDir": {}} in spec["volumes"]
    assert "#   REDIS_PASSWORD, REDIS_DB, BULLMQ_PREFIX.\n" in text  # left to the Secret


def test_kubernetes_startup_probe_follows_the_redis_timeout(tmp_path: Path) -> None:
    root = project(tmp_path, "")
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            "[tool.bullmq-codegen.workers]\n",
            "[tool.bullmq-codegen.workers]\nredisTimeout = 300000\n",
        )
    )
    text = deploy(root, "kubernetes", "kubernetes.yaml")["kubernetes.yaml"]
    deployment = next(
        doc for doc in yaml.safe_load_all(text) if doc and doc["kind"] == "Deployment"
    )
    startup = deployment["spec"]["template"]["spec"]["containers"][0]["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] == 300 + 30


QUEUE_DEFINITIONS = """\
import os
from os import environ

from bullmq_codegen import Job, create_queue_config


async def ping(job: Job[None]) -> None:
    pass


queue_config = create_queue_config(
    queues={"pings": {"workers": {"ping": {"processor": ping}}}},
    connection=os.environ["QUEUE_REDIS_URL"],
    prefix=environ.get("QUEUE_PREFIX", "bull"),
)
"""


def test_the_environment_follows_what_the_connection_reads(tmp_path: Path) -> None:
    root = tmp_path / "pings"
    (root / "pings").mkdir(parents=True)
    (root / "pings" / "__init__.py").write_text("")
    (root / "pings" / "jobs.py").write_text(QUEUE_DEFINITIONS)
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [project]
            name = "pings"
            version = "1.0.0"
            requires-python = ">=3.11"

            [tool.bullmq-codegen]
            config = "pings/jobs.py"

            [tool.bullmq-codegen.deploy]
            env = {QUEUE_PREFIX = "{pings}"}
            """
        )
    )
    subprocess.run(["uv", "lock", "--offline", "--quiet"], cwd=root, check=True, timeout=60)
    url = {"QUEUE_REDIS_URL": "redis://localhost:1/0"}  # the definitions need it to import
    assert cli(root, "generate", **url).returncode == 0
    files = deploy(
        root, "compose", "docker-compose.yml", "Dockerfile", "Dockerfile.dockerignore", **url
    )
    compose = yaml.safe_load(files["docker-compose.yml"])
    # the URL points at the bundled Redis; env from the settings wins over anything derived
    assert compose["services"]["workers"]["environment"] == {
        "QUEUE_REDIS_URL": "redis://redis:6379/0",
        "QUEUE_PREFIX": "{pings}",
        "WORKER_ENABLED": "true",
        "APP_ENV": "production",
        "WORKER_GRACEFUL_SHUTDOWN_TIMEOUT": "30000",
    }
    kubernetes = list(
        yaml.safe_load_all(deploy(root, "kubernetes", "kubernetes.yaml", **url)["kubernetes.yaml"])
    )
    config = next(doc for doc in kubernetes if doc and doc["kind"] == "ConfigMap")
    assert config["data"] == {"QUEUE_REDIS_URL": "redis://redis:6379/0", "QUEUE_PREFIX": "{pings}"}
    # the image's build-time check imports the definitions with the values compose gives
    assert (
        "RUN env QUEUE_PREFIX='{pings}' QUEUE_REDIS_URL=redis://redis:6379/0 "
        "bullmq-codegen generate --check\n"
    ) in files["Dockerfile"]
    pm2 = deploy(root, "pm2", "ecosystem.config.js", **url)["ecosystem.config.js"]
    # named, not set: PM2 passes on the environment it starts in
    assert "//   QUEUE_REDIS_URL, QUEUE_PREFIX\n" in pm2
    assert 'const common = {"QUEUE_PREFIX": "{pings}"};' in pm2


def test_pm2_file(shop: Path) -> None:
    text = deploy(shop, "pm2", "ecosystem.config.js")["ecosystem.config.js"]
    (workers,) = _pm2_apps(shop)  # no apiCommand: no API app
    assert workers["name"] == "shop-workers"
    # the interpreter that ran `deploy`, symlinks kept (a venv's bin/python stays itself)
    assert workers["script"] == os.path.abspath(sys.executable)
    assert workers["args"] == ["-m", "bullmq_codegen", "workers", "start"]
    assert workers["interpreter"] == "none"
    assert workers["kill_timeout"] == (GRACE_MS // 1000 + 5) * 1000
    assert workers["env"]["WORKER_ENABLED"] == "true"
    assert workers["env_production"]["APP_ENV"] == "production"
    assert workers["instances"] == 1
    assert Path(workers["cwd"]) == shop
    assert "merge" not in text  # PM2's out and error logs stay apart
    assert "combine" not in text


def test_pm2_instances_mean_what_pm2_means(tmp_path: Path) -> None:
    root = project(tmp_path, 'apiCommand = "python -m app.api"\n')
    deploy(root, "pm2", "ecosystem.config.js")
    for value, expected in (("max", "max"), ("0", 0), ("-1", -1), ("3", 3), ("", 2)):
        api, workers = _pm2_apps(root, API_INSTANCES=value, WORKER_INSTANCES=value)
        assert workers["instances"] == expected
        assert api["instances"] == (1 if value == "" else expected)
    assert api["script"] == workers["script"] == os.path.abspath(sys.executable)
    assert api["args"] == ["-m", "app.api"]
    assert api["env"]["WORKER_ENABLED"] == "false"
    failed = _pm2_load(root, WORKER_INSTANCES="lots")
    assert failed.returncode != 0
    assert 'WORKER_INSTANCES must be a whole number or "max", not "lots"' in failed.stderr


def test_pm2_python_setting(tmp_path: Path) -> None:
    root = project(tmp_path, 'python = "uv run python"\napiCommand = "python -m app.api"\n')
    deploy(root, "pm2", "ecosystem.config.js")
    api, workers = _pm2_apps(root)
    assert (workers["script"], workers["args"]) == (
        "uv",
        ["run", "python", "-m", "bullmq_codegen", "workers", "start"],
    )
    assert (api["script"], api["args"]) == ("uv", ["run", "python", "-m", "app.api"])


def test_pm2_interpreter_inside_the_project_is_written_relative_to_the_file(
    tmp_path: Path,
) -> None:
    root = project(tmp_path, "")
    # the project's .venv (the tests' own, through a symlink: the path is kept, not resolved)
    (root / ".venv").symlink_to(Path(sys.prefix))
    done = subprocess.run(
        [str(root / ".venv" / "bin" / "python"), "-m", "bullmq_codegen", "deploy", "pm2"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    text = (root / "deploy" / "ecosystem.config.js").read_text()
    assert 'script: path.resolve(__dirname, "../.venv/bin/python"),' in text
    moved = tmp_path / "moved"
    root.rename(moved)
    (workers,) = _pm2_apps(moved)
    assert workers["script"] == str(moved / ".venv" / "bin" / "python")


def test_docker_needs_the_lock(shop: Path) -> None:
    (shop / "uv.lock").unlink()
    done = cli(shop, "deploy", "docker")
    assert done.returncode == 2
    assert f"no uv.lock in {shop}" in done.stderr
    assert "run `uv lock`" in done.stderr


def _pm2_load(root: Path, **env: str) -> subprocess.CompletedProcess[str]:
    script = "console.log(JSON.stringify(require(process.argv[1]).apps))"
    return subprocess.run(
        ["node", "-e", script, str(root / "deploy" / "ecosystem.config.js")],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "WORKER_INSTANCES": "", "API_INSTANCES": "", **env},
    )


def _pm2_apps(root: Path, **env: str) -> list[dict[str, Any]]:
    done = _pm2_load(root, **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="session")
def pm2() -> Path:
    return pm2_binary()


@pytest.fixture
def pm2_home(tmp_path: Path, pm2: Path) -> Iterator[dict[str, str]]:
    environment = {**os.environ, "PM2_HOME": str(tmp_path / "pm2home")}
    yield environment
    subprocess.run(
        [str(pm2), "kill"], env=environment, capture_output=True, check=False, timeout=60
    )


def _jlist(pm2: Path, env: dict[str, str], name: str) -> list[dict[str, Any]]:
    done = subprocess.run([str(pm2), "jlist"], env=env, capture_output=True, text=True, check=True)
    return [app for app in json.loads(done.stdout) if app["name"] == name]


def _completed(client: Redis, prefix: str) -> int:
    return int(client.zcard(f"{prefix}:emailSend:completed"))


def _wait(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def _signup(port: int, index: int) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/signup",
        data=json.dumps({"to": f"u{index}@example.com", "template": "w"}).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def _api_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return int(response.status) == 200
    except OSError:
        return False


@pytest.mark.slow
def test_pm2_runs_the_file_as_generated(
    tmp_path: Path, pm2: Path, pm2_home: dict[str, str], redis: RedisSource, prefix: str
) -> None:
    """The API and the workers under a real PM2, from the file as `deploy pm2` writes it (the
    interpreter that ran it, no python setting): jobs sent to the API complete, nothing
    restarts, a worker killed is restarted, `pm2 stop` is graceful."""
    api_port = free_port()
    env = {**redis_env(redis, prefix), "API_PORT": str(api_port)}
    table = ", ".join(f'{key} = "{value}"' for key, value in env.items())
    root = project(tmp_path, f'apiCommand = "python -m app.api"\nenv = {{{table}}}\n')
    deploy(root, "pm2", "ecosystem.config.js")
    cpus = int(
        subprocess.run(
            ["node", "-e", "console.log(require('os').cpus().length)"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    environment = {**pm2_home, "WORKER_INSTANCES": "max", "API_INSTANCES": "1"}
    started = subprocess.run(
        [str(pm2), "start", "deploy/ecosystem.config.js", "--env", "production"],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert started.returncode == 0, started.stdout + started.stderr
    assert len(_jlist(pm2, environment, "shop-workers")) == cpus  # "max": one per CPU
    _wait(lambda: _api_answers(api_port), 60)
    client = Redis.from_url(redis.url, decode_responses=True)
    assert {_signup(api_port, index) for index in range(20)} == {202}
    _wait(lambda: _completed(client, prefix) >= 20, 60)
    apps = _jlist(pm2, environment, "shop-workers") + _jlist(pm2, environment, "shop-api")
    assert [app["pm2_env"]["restart_time"] for app in apps] == [0] * (cpus + 1)
    assert {app["pm2_env"]["status"] for app in apps} == {"online"}

    first = _jlist(pm2, environment, "shop-workers")[0]
    os.kill(first["pid"], signal.SIGKILL)

    def restarted() -> bool:
        again = next(
            app
            for app in _jlist(pm2, environment, "shop-workers")
            if app["pm_id"] == first["pm_id"]
        )
        return again["pid"] not in (0, first["pid"]) and again["pm2_env"]["status"] == "online"

    _wait(restarted, 60)
    out_log = Path(first["pm2_env"]["pm_out_log_path"])  # with "max", one log for all instances
    _wait(lambda: out_log.read_text().count("starting workers of") == cpus + 1, 60)
    assert {_signup(api_port, index) for index in range(20, 40)} == {202}
    _wait(lambda: _completed(client, prefix) >= 40, 60)  # jobs keep completing after the restart

    stopped = subprocess.run(
        [str(pm2), "stop", "deploy/ecosystem.config.js"],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    workers = _jlist(pm2, environment, "shop-workers")
    assert {app["pm2_env"]["status"] for app in workers} == {"stopped"}
    paths = {
        app["pm2_env"][key] for app in workers for key in ("pm_out_log_path", "pm_err_log_path")
    }
    logs = "".join(Path(path).read_text() for path in sorted(paths))
    assert "No module named" not in logs
    assert logs.count("SIGINT: stopping; running jobs get 4 s to finish") == cpus
    assert logs.count("stopped gracefully") == cpus
    client.close()
