"""The pre-commit hook this repository ships, run by a real pre-commit on a user's project:
the shipped hook through ``pre-commit try-repo`` (pre-commit installs the hook's repository
into an environment of its own, as it does from the hook's URL), and the README's
``repo: local`` variant."""

from __future__ import annotations

import re
import subprocess
import tarfile
import tomllib
from pathlib import Path

import pytest
import yaml

from ..helpers import ROOT
from .billing_app import write_app
from .conftest import Installed, run

HOOK_ID = "bullmq-codegen-check"
STALE = "generated code is not current: run bullmq-codegen generate"


def _readme_yaml_blocks() -> list[str]:
    """The YAML code blocks of the README's section on the generated package."""
    readme = (ROOT / "README.md").read_text()
    heading = "### The generated package in your project"
    assert heading in readme, f"README.md lacks its section {heading!r}"
    section = readme.split(heading, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```yaml\n(.*?)```", section, flags=re.DOTALL)


def test_the_shipped_hook_definition() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == HOOK_ID
    assert hook["entry"] == "bullmq-codegen generate --check"
    assert (hook["language"], hook["pass_filenames"]) == ("python", False)
    files = re.compile(hook["files"])
    for path in ("billing/jobs.py", "pyproject.toml", "templates/producers.py.jinja"):
        assert files.search(path), path
    for path in ("README.md", "mypyproject.toml", "uv.lock"):
        assert not files.search(path), path
    # The README's snippet names this hook in this repository.
    homepage = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Homepage"]
    (remote,) = [
        yaml.safe_load(block)["repos"][0]
        for block in _readme_yaml_blocks()
        if "repo: local" not in block and block.startswith("repos:")
    ]
    assert remote["repo"] == homepage
    assert remote["hooks"] == [{"id": HOOK_ID}]


def _project(tmp_path: Path, installed: Installed) -> tuple[Path, dict[str, str]]:
    """A git repository holding the billing app and its current generated code."""
    root = write_app(tmp_path / "billing-service")
    env = installed.env(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    run([installed.bin("bullmq-codegen"), "generate"], cwd=root, env=env)
    run(["git", "init", "--quiet"], cwd=root, env=env)
    return root, env


def _make_stale(root: Path) -> None:
    """A new worker in the definitions: the committed generated code lacks it."""
    jobs = root / "billing" / "jobs.py"
    jobs.write_text(
        jobs.read_text().replace(
            '"workers": {"dailyReport": {"processor": daily_report}},',
            '"workers": {"dailyReport": {"processor": daily_report}},\n'
            '        },\n        "monthly": {\n'
            '            "workers": {"monthlyReport": {"processor": daily_report}},',
        )
    )


def _pre_commit(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    run(["git", "add", "--all"], cwd=root, env=env)
    return subprocess.run(
        [str(Path(env["VIRTUAL_ENV"]) / "bin" / "pre-commit"), *args, "--all-files"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def _outcome(done: subprocess.CompletedProcess[str]) -> tuple[int, str]:
    """The exit code and pre-commit's verdict line of the hook."""
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("bullmq-codegen ")]
    return done.returncode, line.rsplit(".", 1)[-1]


def _hook_repository(tmp_path: Path, installed: Installed) -> Path:
    """A git repository of this project's sources, from the sdist (so exactly what is built,
    whatever else the working tree holds), as pre-commit clones it from the hook's URL."""
    with tarfile.open(installed.sdist) as sdist:
        sdist.extractall(tmp_path / "hook-repo", filter="data")
    (repo,) = (tmp_path / "hook-repo").iterdir()
    run(["git", "init", "--quiet"], cwd=repo)
    run(["git", "add", "--all"], cwd=repo)
    run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "v"],
        cwd=repo,
    )
    return repo


@pytest.mark.slow
def test_try_repo_runs_the_shipped_hook(tmp_path: Path, installed: Installed) -> None:
    root, env = _project(tmp_path, installed)
    args = ("try-repo", str(_hook_repository(tmp_path, installed)), HOOK_ID)
    current = _pre_commit(root, env, *args)
    assert _outcome(current) == (0, "Passed"), current.stdout + current.stderr

    _make_stale(root)
    stale = _pre_commit(root, env, *args)
    assert _outcome(stale) == (1, "Failed"), stale.stdout + stale.stderr
    assert STALE in stale.stdout
    assert '+QueueName = Literal["invoices", "monthly", "reports"]' in stale.stdout  # the diff

    run([installed.bin("bullmq-codegen"), "generate"], cwd=root, env=env)
    fixed = _pre_commit(root, env, *args)
    assert _outcome(fixed) == (0, "Passed"), fixed.stdout + fixed.stderr


@pytest.mark.slow
def test_the_readme_local_hook(tmp_path: Path, installed: Installed) -> None:
    root, env = _project(tmp_path, installed)
    (local,) = [block for block in _readme_yaml_blocks() if "repo: local" in block]
    (root / ".pre-commit-config.yaml").write_text(local)
    current = _pre_commit(root, env, "run")
    assert _outcome(current) == (0, "Passed"), current.stdout + current.stderr

    _make_stale(root)
    stale = _pre_commit(root, env, "run")
    assert _outcome(stale) == (1, "Failed"), stale.stdout + stale.stderr
    assert STALE in stale.stdout
