"""The built distributions, and a fresh virtual environment outside the repository with the
wheel installed: what a user gets from ``pip install``. Built once per session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..helpers import ROOT

# Variables that would point a process at this repository or at the suite's environment.
_FOREIGN = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "CONDA_PREFIX")


@dataclass(frozen=True, slots=True)
class Installed:
    """The built archives and the virtual environment the wheel is installed in."""

    wheel: Path
    sdist: Path
    venv: Path

    def bin(self, name: str) -> str:
        """The path of a program installed in the environment (``python``, ``mypy``...)."""
        return str(self.venv / "bin" / name)

    def env(self, *, activated: bool = True, **extra: str) -> dict[str, str]:
        """A user's shell, the environment activated or not: nothing of the repository in it."""
        env = user_env()
        if activated:
            env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env['PATH']}"
            env["VIRTUAL_ENV"] = str(self.venv)
        return {**env, **extra}


def user_env() -> dict[str, str]:
    """This process's environment less what points at the repository or the suite's venv
    (``uv run`` puts the suite's ``.venv/bin`` first on ``PATH``: its ``python`` has the
    package installed from the source tree, and would hide a deploy file that needs it)."""
    env = {key: value for key, value in os.environ.items() if key not in _FOREIGN}
    env["PATH"] = os.pathsep.join(
        entry
        for entry in env.get("PATH", "").split(os.pathsep)
        if entry and not Path(entry).resolve().is_relative_to(ROOT)
    )
    return env


def uv_executable() -> str:
    """The uv running the suite (``./dev test`` runs it under ``uv run``), else uv on PATH."""
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        pytest.fail("uv is needed to build the wheel: run the suite with ./dev test (installs it)")
    return found


def locked_version(package: str) -> str:
    """The version of ``package`` in uv.lock: the installed environment's tools match the suite's."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    (version,) = [entry["version"] for entry in lock["package"] if entry["name"] == package]
    return str(version)


def run(args: Sequence[str | Path], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a command to completion; its output, or a failure that shows it."""
    done = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, (
        f"{' '.join(map(str, args))} exited {done.returncode}:\n{done.stdout}"
    )
    return done.stdout


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """``uv build`` (the sdist, then the wheel from it), and the wheel installed into a fresh
    virtual environment with mypy (the suite's version) and pre-commit beside it."""
    uv = uv_executable()
    work = tmp_path_factory.mktemp("packaging")
    # uv run by a user: no project, no virtual environment of the suite's, no Python download.
    env = {**user_env(), "UV_PYTHON_DOWNLOADS": "never"}
    dist = work / "dist"
    run([uv, "build", "--out-dir", dist, ROOT], cwd=work, env=env)
    (wheel,) = dist.glob("bullmq_codegen-*-py3-none-any.whl")
    (sdist,) = dist.glob("bullmq_codegen-*.tar.gz")
    venv = work / "venv"
    # The suite's Python (its base interpreter: uv looks through the suite's venv).
    run([uv, "venv", "--quiet", "--python", sys.executable, venv], cwd=work, env=env)
    run(
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            venv / "bin" / "python",
            wheel,
            f"mypy=={locked_version('mypy')}",
            "pre-commit>=4",
            # pre-commit then makes its hook environments with uv (from uv's cache: seconds).
            "pre-commit-uv>=4",
        ],
        cwd=work,
        env=env,
    )
    return Installed(wheel=wheel, sdist=sdist, venv=venv)
