"""``bullmq-codegen diff`` end to end: a project in git, its definitions edited, compared with
``HEAD``, with a saved ``contract.json``, and with what is neither.

The command runs in this process (in the project's directory); the definitions at a git
ref are exported by the real subprocess ``diff`` starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bullmq_codegen.cli.app import app

JOBS = """\
from bullmq_codegen import Job, create_queue_config

from shop.models import Order, Receipt


async def place_order(job: Job[Order]) -> Receipt:
    return Receipt(total=len(job.payload.items))


queue_config = create_queue_config(
    queues={"orders": {"workers": {"placeOrder": {"schema": Order, "processor": place_order}}}},
    connection="redis://localhost:6379/0",
)
"""

MODELS_V1 = """\
from pydantic import BaseModel, Field


class Order(BaseModel):
    order_id: int = Field(alias="orderId")
    items: list[str]


class Receipt(BaseModel):
    total: int
"""


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=root, capture_output=True, text=True, check=False)


def diff(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``bullmq-codegen diff ARGS`` run in ``root``."""
    saved = Path.cwd()
    os.chdir(root)
    try:
        done = CliRunner().invoke(app, ["diff", *args])
    finally:
        os.chdir(saved)
    return subprocess.CompletedProcess(args, done.exit_code, done.stdout, done.stderr)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose definitions import their models from a module of their own, in git."""
    root = tmp_path / "project"
    (root / "shop").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.bullmq-codegen]\nconfig = "shop/jobs.py"\n')
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "jobs.py").write_text(JOBS)
    (root / "shop" / "models.py").write_text(MODELS_V1)
    git = ("git", "-c", "user.name=t", "-c", "user.email=t@example.com")
    for command in (("init", "--quiet"), ("add", "--all"), ("commit", "--quiet", "-m", "v1")):
        assert run(root, *git, *command).returncode == 0
    return root


def edit(root: Path, old: str, new: str) -> None:
    models = root / "shop" / "models.py"
    models.write_text(models.read_text().replace(old, new))


def test_a_breaking_edit_against_head_and_a_saved_contract(project: Path) -> None:
    exported = run(
        project, sys.executable, "-m", "bullmq_codegen", "export", "jsonschema", "--out", "saved"
    )
    assert exported.returncode == 0, exported.stderr
    edit(project, "items: list[str]", "items: list[int]")
    edit(project, "total: int", "total: int | None")
    for against in ("HEAD", "saved/contract.json", "saved"):
        found = diff(project, "--against", against)
        assert found.returncode == 1, (against, found.stdout, found.stderr)
        assert found.stdout.splitlines()[:2] == [
            "BREAKING orders/placeOrder payload.items[]: type changed string → integer: "
            "jobs already waiting may carry string",
            "BREAKING orders/placeOrder result.total: made nullable: "
            "readers not yet redeployed do not expect null",
        ]
        assert found.stdout.splitlines()[2].startswith("2 breaking changes, 0 safe changes (1 job)")
    as_json = json.loads(diff(project, "--against", "saved", "--json").stdout)
    assert as_json["breaking"] == 2
    assert as_json["against"] == str(project / "saved" / "contract.json")
    assert [c["path"] for c in as_json["changes"]] == ["payload.items[]", "result.total"]


def test_a_safe_edit_exits_0(project: Path) -> None:
    edit(project, "items: list[str]", "items: list[str]\n    note: str | None = None")
    found = diff(project, "--against", "HEAD")
    assert found.returncode == 0, found.stdout + found.stderr
    assert found.stdout.splitlines()[0] == (
        "SAFE orders/placeOrder payload.note: optional field added (default none): "
        "the new worker still accepts what the old one did"
    )


def test_the_old_definitions_are_loaded_from_the_ref_not_from_the_working_tree(
    project: Path,
) -> None:
    """The ref's own models module is the one read (it is imported in a process of its own)."""
    edit(project, "order_id: int", "order_id: str")
    git = ("git", "-c", "user.name=t", "-c", "user.email=t@example.com")
    assert run(project, *git, "commit", "--quiet", "-am", "v2").returncode == 0
    against_previous = diff(project, "--against", "HEAD~1")
    assert against_previous.returncode == 1
    assert "BREAKING orders/placeOrder payload.orderId: type changed integer → string" in (
        against_previous.stdout
    )
    assert diff(project, "--against", "HEAD").returncode == 0


def test_bad_input_exits_2_naming_it(project: Path) -> None:
    missing = diff(project, "--against", "no-such-ref")
    assert missing.returncode == 2
    assert f"--against no-such-ref: no such file, and not a git ref of {project.resolve()}" in (
        missing.stderr
    )
    (project / "empty").mkdir()
    assert "a directory without a contract.json" in diff(project, "--against", "empty").stderr
    (project / "bad.json").write_text('{"version": 99}')
    bad = diff(project, "--against", "bad.json")
    assert bad.returncode == 2
    assert "bad.json: not a contract.json written by export jsonschema" in bad.stderr


def test_definitions_new_since_the_ref_are_all_added(project: Path) -> None:
    """The change that adds (or renames) the definitions file: nothing waits yet, all is safe."""
    (project / "shop" / "jobs.py").rename(project / "shop" / "definitions.py")
    added = diff(project, "--config", "shop/definitions.py", "--against", "HEAD")
    assert (added.returncode, added.stderr) == (0, "")
    assert added.stdout.splitlines() == [
        "SAFE orders/placeOrder: job added: nothing waits for it yet",
        "0 breaking changes, 1 safe change (1 job) against git ref HEAD "
        f"({_head(project)[:12]}), no definitions",
    ]


def _head(project: Path) -> str:
    return run(project, "git", "rev-parse", "HEAD").stdout.strip()


def test_a_src_layout_package_on_sys_path_is_read_from_the_ref(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Models in ``src/`` (importable as an editable install makes them) come from the ref's tree."""
    (project / "src" / "shopmodels").mkdir(parents=True)
    (project / "src" / "shopmodels" / "__init__.py").write_text(MODELS_V1)
    jobs = project / "shop" / "jobs.py"
    jobs.write_text(jobs.read_text().replace("from shop.models", "from shopmodels"))
    git = ("git", "-c", "user.name=t", "-c", "user.email=t@example.com")
    assert run(project, *git, "add", "--all").returncode == 0
    assert run(project, *git, "commit", "--quiet", "-m", "src layout").returncode == 0
    models = project / "src" / "shopmodels" / "__init__.py"
    models.write_text(models.read_text().replace("items: list[str]", "items: list[int]"))
    monkeypatch.syspath_prepend(str(project / "src"))
    found = diff(project, "--against", "HEAD")
    assert found.returncode == 1, found.stdout + found.stderr
    assert "BREAKING orders/placeOrder payload.items[]: type changed string → integer" in (
        found.stdout
    )
