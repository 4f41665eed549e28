"""``bullmq-codegen --version`` and the version it reports, installed or from a source tree."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest

from ..helpers import ROOT

PROJECT_VERSION: str = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_flag_prints_name_and_version(flag: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bullmq_codegen", flag],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        f"bullmq-codegen {PROJECT_VERSION}\n",
        "",
    )


def test_version_flag_wins_over_a_command() -> None:
    """Eager: printed before a command's own checks (here a missing definitions module)."""
    done = subprocess.run(
        [sys.executable, "-m", "bullmq_codegen", "--version", "generate", "--config", "nope.py"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, f"bullmq-codegen {PROJECT_VERSION}\n")


def test_a_source_tree_not_installed_reports_pyproject_version() -> None:
    """Without site-packages (``-S``) no distribution is found: the fallback is pyproject's."""
    source = ROOT / "src" / "bullmq_codegen" / "_version.py"
    done = subprocess.run(
        [
            sys.executable,
            "-S",
            "-c",
            f"import runpy; print(runpy.run_path({str(source)!r})['__version__'])",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == f"{PROJECT_VERSION}\n"
