"""``bullmq-codegen generate``: exit codes, messages, and nothing written on error."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

GOOD = """\
from pydantic import BaseModel
from bullmq_codegen import Job, create_queue_config


class Ping(BaseModel):
    host: str


async def ping(job: Job[Ping]) -> None:
    return None


queue_config = create_queue_config(
    queues={"pings": {"workers": {"pingHost": {"schema": Ping, "processor": ping}}}},
    connection="redis://localhost:6379/0",
)
"""


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bullmq_codegen", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def project(tmp_path: Path, source: str = GOOD) -> Path:
    package = tmp_path / "svc" / "queues"
    package.mkdir(parents=True)
    (tmp_path / "svc" / "__init__.py").touch()
    (package / "__init__.py").touch()
    (package / "defs.py").write_text(textwrap.dedent(source))
    return package / "defs.py"


def test_generate_then_check(tmp_path: Path) -> None:
    project(tmp_path)
    done = run(tmp_path, "generate", "--config", "svc/queues/defs.py")
    assert done.returncode == 0, done.stderr
    assert "wrote " in done.stdout
    assert sorted(p.name for p in (tmp_path / "svc/queues/generated").glob("*.py")) == [
        "__init__.py",
        "__main__.py",
        "producers.py",
        "queues.py",
        "workers.py",
    ]
    current = run(tmp_path, "generate", "--config", "svc.queues.defs", "--check")
    assert (current.returncode, current.stdout.strip()) == (
        0,
        f"{tmp_path}/svc/queues/generated is up to date",
    )


def test_check_prints_a_diff_and_exits_1(tmp_path: Path) -> None:
    definitions = project(tmp_path)
    run(tmp_path, "generate", "-c", "svc/queues/defs.py")
    definitions.write_text(GOOD.replace('"pingHost"', '"pingServer"'))
    stale = run(tmp_path, "generate", "-c", "svc/queues/defs.py", "--check")
    assert stale.returncode == 1
    assert "--- a/svc/queues/generated/producers.py" in stale.stdout
    assert "+async def enqueue_ping_server(" in stale.stdout
    assert "stale: " in stale.stderr
    assert "enqueue_ping_host" in (tmp_path / "svc/queues/generated/producers.py").read_text()


def test_settings_come_from_pyproject(tmp_path: Path) -> None:
    project(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.bullmq-codegen]\nconfig = "svc/queues/defs.py"\nout = "svc/jobs_generated"\n'
    )
    (tmp_path / "svc" / "sub").mkdir()
    done = run(tmp_path / "svc" / "sub", "generate")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "svc/jobs_generated/producers.py").is_file()


def test_a_template_directory_overrides_single_templates(tmp_path: Path) -> None:
    project(tmp_path)
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "queues.py.jinja").write_text(
        "{{ header }}\n# Company header for {{ model.module }}\n"
        "from typing import Final\n\nfrom bullmq_codegen.runtime import Runtime\n"
        "{% for statement in imports[file] %}{{ statement }}\n{% endfor %}\n"
        "runtime: Final = Runtime({{ model.config.expression }})\n"
        "{% for queue in model.queues %}{{ queue.handle }}: Final = runtime.queue({{ queue.name | pyrepr }})\n{% endfor %}"
        "QueueName = str\n\n\nasync def close_connections() -> None:\n    await runtime.close()\n"
    )
    done = run(tmp_path, "generate", "-c", "svc/queues/defs.py", "--templates", "templates")
    assert done.returncode == 0, done.stderr
    queues = (tmp_path / "svc/queues/generated/queues.py").read_text()
    assert "# Company header for svc.queues.defs" in queues
    assert "Regenerate with" in (tmp_path / "svc/queues/generated/workers.py").read_text()


def test_templates_must_keep_the_header_and_exist(tmp_path: Path) -> None:
    project(tmp_path)
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "queues.py.jinja").write_text("X = 1\n")
    done = run(tmp_path, "generate", "-c", "svc/queues/defs.py", "--templates", "templates")
    assert done.returncode == 2
    assert "queues.py.jinja must start with {{ header }}" in done.stderr
    missing = run(tmp_path, "generate", "-c", "svc/queues/defs.py", "--templates", "nope")
    assert missing.returncode == 2
    assert "templates directory" in missing.stderr
    assert "does not exist" in missing.stderr
    assert not (tmp_path / "svc/queues/generated").exists()


def test_an_output_path_that_cannot_be_written(tmp_path: Path) -> None:
    project(tmp_path)
    (tmp_path / "taken").write_text("a file, not a directory\n")
    done = run(tmp_path, "generate", "-c", "svc/queues/defs.py", "--out", "taken/generated")
    assert done.returncode == 2
    assert "taken/generated: cannot create the output directory" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_configured_out_belongs_to_the_configured_definitions(tmp_path: Path) -> None:
    project(tmp_path)
    other = tmp_path / "svc" / "other"
    other.mkdir()
    (other / "__init__.py").touch()
    (other / "defs.py").write_text(GOOD)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.bullmq-codegen]\nconfig = "svc/queues/defs.py"\nout = "svc/jobs_generated"\n'
    )
    assert run(tmp_path, "generate").returncode == 0
    assert run(tmp_path, "generate", "-c", "svc/other/defs.py").returncode == 0
    assert (
        other / "generated" / "producers.py"
    ).is_file()  # beside it, not over the configured out
    header = (tmp_path / "svc/jobs_generated/producers.py").read_text().splitlines()[0]
    assert header.endswith("from svc.queues.defs:queue_config. DO NOT EDIT.")


def test_a_broken_template_is_refused_with_nothing_written(tmp_path: Path) -> None:
    project(tmp_path)
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "workers.py.jinja").write_text("{{ header }}\n{{ model.no_such_thing }}\n")
    done = run(tmp_path, "generate", "-c", "svc/queues/defs.py", "--templates", "templates")
    assert done.returncode == 2
    assert not (tmp_path / "svc/queues/generated").exists()


BAD_INPUTS = {
    "syntax": (
        GOOD.replace("class Ping(BaseModel):", "class Ping(BaseModel)"),
        "svc/queues/defs.py:5: syntax error: expected ':'",
    ),
    "import": (
        "import no_such_module_anywhere\n" + GOOD,
        "svc/queues/defs.py:1: importing the definitions raised ModuleNotFoundError",
    ),
    "no config": ("X = 1\n", "svc/queues/defs.py: no QueueConfig found"),
    "two configs": (
        GOOD
        + "other = create_queue_config(queues={'x': {'workers': {'y': {'processor': ping}}}}, connection='redis://h')\n",
        "2 QueueConfig objects found (other, queue_config)",
    ),
    "sync processor": (
        GOOD.replace("async def ping", "def ping"),
        "svc/queues/defs.py:14: queue 'pings', worker 'pingHost', processor: processor ping is not async",
    ),
    "collision": (
        GOOD.replace(
            '"pings": {', '"pingJobs": {"workers": {"x": {"processor": ping}}}, "ping_jobs": {'
        ),
        "queue names 'pingJobs' and 'ping_jobs' both become 'ping_jobs' in Python",
    ),
    "keyword": (
        GOOD.replace('"pingHost"', '"async"'),
        "worker name 'async' is the Python keyword 'async'",
    ),
    "duplicate job": (
        GOOD.replace(
            '"pings": {', '"other": {"workers": {"pingHost": {"processor": ping}}}, "pings": {'
        ),
        "job name 'pingHost' is defined in queues 'other' and 'pings'",
    ),
    "local processor": (
        GOOD.replace(
            "async def ping(job: Job[Ping]) -> None:\n    return None",
            "def _make():\n    async def ping(job: Job[Ping]) -> None:\n        return None\n    return ping\n\nping = _make()",
        ),
        "processor _make.<locals>.ping is defined inside a function",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exits_2_names_the_problem_and_writes_nothing(tmp_path: Path, case: str) -> None:
    source, expected = BAD_INPUTS[case]
    project(tmp_path, source)
    done = run(tmp_path, "generate", "-c", "svc/queues/defs.py")
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert expected in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "svc/queues/generated").exists()


def test_missing_paths_and_settings(tmp_path: Path) -> None:
    missing = run(tmp_path, "generate", "-c", "svc/nope.py")
    assert missing.returncode == 2
    assert "svc/nope.py: no such file" in missing.stderr
    unset = run(tmp_path, "generate")
    assert unset.returncode == 2
    assert "no definitions given: pass --config PATH_OR_MODULE" in unset.stderr
