"""The Dockerfile of ``deploy docker``: its structure, its steps run without Docker, and (where
a Docker engine answers) the image built and run.

Without an engine, the steps are run as the image would run them: the
repository copied as the build context leaves it (its ``.dockerignore``),
the builder's ``uv sync`` into the copy's ``.venv``, the build-time
``generate --check``, then the image's command with its health check and stop
signal, against a real Redis.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

import pytest

from bullmq_codegen.deploy.render import UV_IMAGE_VERSION
from bullmq_codegen.testing import RedisSource, free_port

from ..helpers import ROOT
from .test_deploy import cli, deploy, project


@dataclass
class Stage:
    """One ``FROM`` of a Dockerfile and the instructions under it."""

    image: str
    name: str = ""
    instructions: list[tuple[str, str]] = field(default_factory=list[tuple[str, str]])

    def all(self, keyword: str) -> list[str]:
        return [rest for word, rest in self.instructions if word == keyword]

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for rest in self.all("ENV"):
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                values[key] = value
        return values


def parse(dockerfile: str) -> tuple[dict[str, str], list[Stage]]:
    """The global ``ARG`` defaults and the stages of ``dockerfile``."""
    instructions: list[tuple[str, str]] = []
    current = ""
    for line in dockerfile.splitlines():
        if not current and (line.startswith("#") or not line.strip()):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        keyword, _, rest = (current + line).strip().partition(" ")
        instructions.append((keyword, rest.strip()))
        current = ""
    arguments: dict[str, str] = {}
    stages: list[Stage] = []
    for keyword, rest in instructions:
        if keyword == "FROM":
            image, _, name = rest.partition(" AS ")
            stages.append(Stage(image, name))
        elif stages:
            stages[-1].instructions.append((keyword, rest))
        else:
            assert keyword == "ARG", f"{keyword} before the first FROM"
            key, _, value = rest.partition("=")
            arguments[key] = value
    return arguments, stages


@pytest.fixture
def dockerfile(tmp_path: Path) -> str:
    root = project(tmp_path, "healthPort = 9100\n")
    files = deploy(root, "docker", "Dockerfile", "Dockerfile.dockerignore")
    ignore = files["Dockerfile.dockerignore"].splitlines()
    assert {".git", ".venv", "**/__pycache__", ".env"} <= set(ignore)
    assert not any("generated" in line for line in ignore if not line.startswith("#"))
    return files["Dockerfile"]


def test_the_dockerfile(dockerfile: str) -> None:
    arguments, (uv, builder, runtime) = parse(dockerfile)
    assert arguments == {
        "PYTHON_VERSION": f"{sys.version_info.major}.{sys.version_info.minor}",
        "UV_VERSION": UV_IMAGE_VERSION,
    }
    assert (uv.image, uv.name) == ("ghcr.io/astral-sh/uv:${UV_VERSION}", "uv")
    # the builder: uv, the lock, no dev dependencies
    assert (builder.image, builder.name) == ("python:${PYTHON_VERSION}-slim", "builder")
    assert builder.all("COPY")[:2] == [
        "--from=uv /uv /usr/local/bin/uv",
        "pyproject.toml uv.lock ./",
    ]
    assert [run.split(" ", 1)[1] for run in builder.all("RUN")] == [
        "uv sync --frozen --no-dev --no-install-project",
        "uv sync --frozen --no-dev",
    ]
    assert builder.env()["UV_PROJECT_ENVIRONMENT"] == "/app/.venv"
    # the runtime: the same slim Python, the venv copied, a non-root user, the check at build time
    assert runtime.image == "python:${PYTHON_VERSION}-slim"
    assert runtime.all("COPY") == ["--from=builder /app /app"]
    assert runtime.all("USER") == ["app"]
    assert "useradd --uid 1000" in runtime.all("RUN")[0]
    # with the values compose gives the Redis variables the definitions read, "0" for the rest
    assert runtime.all("RUN")[1] == (
        "env REDIS_HOST=redis REDIS_PORT=6379 BULLMQ_PREFIX=0 REDIS_DB=0 REDIS_PASSWORD=0 "
        "bullmq-codegen generate --check"
    )
    assert runtime.env()["PATH"] == "/app/.venv/bin:$PATH"
    assert runtime.all("WORKDIR") == ["/app", "/app"]
    assert runtime.all("EXPOSE") == ["9100"]
    (health,) = runtime.all("HEALTHCHECK")
    assert "http://127.0.0.1:9100/health/live" in health
    assert runtime.all("STOPSIGNAL") == ["SIGTERM"]
    assert json.loads(runtime.all("CMD")[0]) == [
        "python",
        "-m",
        "bullmq_codegen",
        "workers",
        "start",
        "--health-port",
        "9100",
        "--health-host",
        "0.0.0.0",
    ]


def _ignored(patterns: list[str], relative: str) -> bool:
    """Whether a .dockerignore's ``patterns`` leave ``relative`` out (the forms it uses)."""
    name = relative.rsplit("/", 1)[-1]
    return any(
        fnmatch.fnmatch(relative, pattern)
        or (pattern.startswith("**/") and fnmatch.fnmatch(name, pattern[3:]))
        for pattern in patterns
    )


def _context(out: Path, destination: Path) -> Path:
    """The repository as the build context leaves it, at ``destination``."""
    patterns = [
        line
        for line in (out / "Dockerfile.dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]

    def ignore(directory: str, names: list[str]) -> set[str]:
        base = Path(directory).relative_to(ROOT).as_posix()
        return {
            name for name in names if _ignored(patterns, name if base == "." else f"{base}/{name}")
        }

    shutil.copytree(ROOT, destination, ignore=ignore, symlinks=True)
    return destination


def _run_steps(
    stage: Stage, context: Path, env: dict[str, str], fixed: dict[str, str], after: str = ""
) -> None:
    """Run ``stage``'s RUN steps (those after the ``after`` instruction) in ``context``, with
    its ENV (``/app`` being ``context``), then ``fixed`` over it."""
    running = not after
    workdir = context
    for keyword, rest in stage.instructions:
        running = running or keyword == after
        if keyword == "ENV":
            for key, value in Stage("", "", [(keyword, rest)]).env().items():
                env[key] = Template(value.replace("/app", str(context))).safe_substitute(env)
            env.update(fixed)
        elif keyword == "WORKDIR":
            workdir = Path(rest.replace("/app", str(context)))
        elif keyword == "RUN" and running:
            command = " ".join(word for word in rest.split(" ") if not word.startswith("--mount="))
            done = subprocess.run(
                ["bash", "-c", command],
                cwd=workdir,
                env=env,
                capture_output=True,
                text=True,
                check=False,
                timeout=300,
            )
            if done.returncode != 0 and "offline" in done.stderr.lower():
                pytest.skip(f"the locked packages are not all in uv's cache: {done.stderr[-300:]}")
            assert done.returncode == 0, f"RUN {command}\n{done.stdout}{done.stderr}"


def _ready(port: int) -> bool:
    """Whether ``/health/ready`` on ``port`` answers 200 (False on its 503)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=10) as ready:
            status: int = ready.status
    except urllib.error.HTTPError as error:
        if error.code != 503:
            raise
        return False
    return status == 200


def test_the_image_steps_run_without_docker(
    tmp_path: Path, redis: RedisSource, prefix: str
) -> None:
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "bullmq_codegen", "deploy", "docker", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.count("wrote") == 2
    _, (_, builder, runtime) = parse((out / "Dockerfile").read_text())
    context = _context(out, tmp_path / "app")
    assert not (context / ".venv").exists()
    assert (context / "examples" / "app" / "queues" / "generated" / "workers.py").is_file()
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    base_python = Path(sys.base_prefix, "bin", "python3")
    fixed = {
        "UV_OFFLINE": "1",  # the packages come from uv's cache, as the image's from the index
        "UV_PYTHON": str(base_python if base_python.exists() else sys.executable),  # the image's
    }
    _run_steps(builder, context, dict(env), fixed)
    runtime_env = dict(env)
    _run_steps(runtime, context, runtime_env, {}, after="USER")  # generate --check, as the user
    assert Path(runtime_env["PATH"].split(":")[0]) == context / ".venv" / "bin"

    # the image's command, health check and stop signal
    workdir = Path(runtime.all("WORKDIR")[-1].replace("/app", str(context)))
    command = json.loads(runtime.all("CMD")[0])
    port, image_port = free_port(), command[command.index("--health-port") + 1]
    command[command.index("--health-port") + 1] = str(port)
    host, redis_port = redis.url.removeprefix("redis://").split("/")[0].split(":")
    process = subprocess.Popen(
        command,
        cwd=workdir,
        env={
            **runtime_env,
            "REDIS_HOST": host,
            "REDIS_PORT": redis_port,
            "BULLMQ_PREFIX": prefix,
            "APP_ENV": "production",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert shutil.which("python", path=runtime_env["PATH"]) == str(
            context / ".venv" / "bin" / "python"
        )
        check = json.loads(runtime.all("HEALTHCHECK")[0].split(" CMD ", 1)[1])
        check = [part.replace(f":{image_port}/", f":{port}/") for part in check]
        deadline = time.monotonic() + 60
        while subprocess.run(check, env=runtime_env, capture_output=True).returncode != 0:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "the image's health check never passed"
            time.sleep(0.2)
        while not _ready(port):  # 503 while the workers connect; then 200
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "the workers never became ready"
            time.sleep(0.2)
        process.send_signal(getattr(signal, runtime.all("STOPSIGNAL")[0]))
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = process.stdout.read() if process.stdout else ""
    assert "stopped gracefully" in output, output


def _buildkit_docker() -> tuple[str | None, str]:
    """The first ``docker`` on PATH that answers and builds with BuildKit (the Dockerfile's cache
    mounts and its ``Dockerfile.dockerignore`` need it), else None and why not.

    A CLI builds with BuildKit under ``DOCKER_BUILDKIT=1`` when it has the buildx plugin, or is
    older than 23 (it then drives the engine's own BuildKit); a newer one without buildx falls
    back to the legacy builder, which cannot build the image.
    """
    found: list[str] = []
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        cli = shutil.which("docker", path=directory)
        if cli and os.path.realpath(cli) not in map(os.path.realpath, found):
            found.append(cli)
    if not found:
        return None, "no docker CLI on PATH: not built"
    if not any(subprocess.run([cli, "info"], capture_output=True).returncode == 0 for cli in found):
        return None, "no Docker engine answers (`docker info` fails): not built"
    for cli in found:
        if subprocess.run([cli, "buildx", "version"], capture_output=True).returncode == 0:
            return cli, ""
        version = subprocess.run(
            [cli, "version", "--format", "{{.Client.Version}}"], capture_output=True, text=True
        ).stdout
        if version.split(".")[0].isdigit() and int(version.split(".")[0]) < 23:
            return cli, ""
    return None, f"no docker CLI on PATH builds with BuildKit ({', '.join(found)}: no buildx)"


DOCKER, NOT_BUILT = _buildkit_docker()


def _docker(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    assert DOCKER is not None
    return subprocess.run(
        [DOCKER, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
    )


_ENQUEUE = """
import asyncio
from app.queues.generated.producers import enqueue_after_sign_up_email_and_wait
from app.queues.queue_definitions import EmailSend
sent = enqueue_after_sign_up_email_and_wait(EmailSend(to="a@example.com", template="welcome"))
print(asyncio.run(sent).model_dump_json())
"""
"""One job of the example's, enqueued in the workers' container; it waits for the result."""


@pytest.mark.slow
@pytest.mark.skipif(DOCKER is None, reason=NOT_BUILT)
def test_the_image_builds_and_runs(tmp_path: Path) -> None:
    """The repository's own image: built, run beside a Redis, healthy by its own HEALTHCHECK,
    running the example's jobs, stopped gracefully.

    Where no registry answers, ``bench/docker/local_base_images.sh`` builds the base images
    (``python:3.11-slim``, uv's, ``redis:7``) from Debian packages first.
    """
    tag = f"bullmq-codegen-test-{uuid.uuid4().hex[:8]}"
    workers = f"{tag}-workers"
    out = tmp_path / "out"
    subprocess.run(
        [sys.executable, "-m", "bullmq_codegen", "deploy", "docker", "--out", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    built = _docker("build", "-f", str(out / "Dockerfile"), "-t", tag, str(ROOT))
    assert built.returncode == 0, built.stdout + built.stderr  # generate --check passed in it
    network = _docker("network", "create", tag)
    assert network.returncode == 0, network.stderr
    try:
        redis = _docker("run", "-d", "--name", f"{tag}-redis", "--network", tag, "redis:7")
        assert redis.returncode == 0, redis.stderr
        started = _docker(
            "run", "-d", "--name", workers, "--network", tag,
            "-e", f"REDIS_HOST={tag}-redis", "-e", "APP_ENV=production",
            "--health-interval", "1s",  # the image's check, tried every second, not every 15
            tag,
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        deadline = time.monotonic() + 120
        while (health := _docker("inspect", "-f", "{{.State.Health.Status}}", workers)).stdout != (
            "healthy\n"
        ):
            assert health.stdout != "unhealthy\n", _docker("inspect", workers).stdout
            assert time.monotonic() < deadline, _docker("logs", workers).stderr
            time.sleep(0.5)
        while True:
            ready = _docker(
                "exec", workers, "python", "-c",
                "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8081/health/ready', timeout=3)",
            )  # fmt: skip
            if ready.returncode == 0:
                break
            assert time.monotonic() < deadline, _docker("logs", workers).stderr
            time.sleep(0.5)
        sent = _docker("exec", workers, "python", "-c", _ENQUEUE, timeout=60)
        assert sent.returncode == 0, sent.stderr
        assert json.loads(sent.stdout)["to"] == "a@example.com"
        assert _docker("stop", "-t", "40", workers).returncode == 0
        code = _docker("inspect", "-f", "{{.State.ExitCode}}", workers).stdout.strip()
        logs = _docker("logs", workers)
        assert code == "0", logs.stdout + logs.stderr
        assert "Sending email: {'to': 'a@example.com'" in logs.stdout + logs.stderr
        assert "emailSend: 1 completed" in logs.stdout + logs.stderr
        assert "stopped gracefully" in logs.stdout + logs.stderr
    finally:
        _docker("rm", "-f", workers, f"{tag}-redis")
        _docker("network", "rm", tag)
        _docker("rmi", "-f", tag)


def test_the_build_check_imports_definitions_that_require_a_secret(tmp_path: Path) -> None:
    root = project(tmp_path, "")
    definitions = root / "app" / "queues" / "queue_definitions.py"
    definitions.write_text(
        definitions.read_text().replace(
            'os.environ.get("REDIS_PASSWORD")', 'os.environ["SHOP_REDIS_PASSWORD"]'
        )
    )
    assert cli(root, "generate", SHOP_REDIS_PASSWORD="set").returncode == 0
    dockerfile = deploy(
        root, "docker", "Dockerfile", "Dockerfile.dockerignore", SHOP_REDIS_PASSWORD="x"
    )
    _, (_, _, runtime) = parse(dockerfile["Dockerfile"])
    check = runtime.all("RUN")[1]
    assert "SHOP_REDIS_PASSWORD=0 " in check
    # the step as the build runs it, where no such variable is set
    environment = {key: value for key, value in os.environ.items() if "REDIS" not in key}
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
    done = subprocess.run(
        ["sh", "-c", check], cwd=root, env=environment, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "is up to date" in done.stdout
