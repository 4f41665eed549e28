"""Formatting generated code with the pinned ruff, isolated from any user configuration."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Sequence

from ruff import find_ruff_bin  # type: ignore[import-untyped,unused-ignore]

from ..errors import BullMQCodegenError

__all__ = ["FormatError", "format_python"]

_COMMON = ["--isolated", "--target-version", "py311", "--line-length", "100"]


class FormatError(BullMQCodegenError):
    """ruff refused the rendered code: a template produced invalid Python."""


def _ruff(arguments: Sequence[str], source: str, filename: str) -> str:
    # ruff sorts imports by whether a module looks first-party from its working
    # directory: run it from an empty one, so the output never depends on where
    # generation was started.
    with tempfile.TemporaryDirectory(prefix="bullmq-codegen-ruff-") as empty:
        completed = subprocess.run(
            [find_ruff_bin(), *arguments, *_COMMON, "--stdin-filename", filename, "-"],
            input=source,
            capture_output=True,
            text=True,
            check=False,
            cwd=empty,
        )
    if completed.returncode != 0:
        raise FormatError(
            f"ruff could not format generated {filename} (is a custom template broken?):\n"
            f"{completed.stderr.strip()}"
        )
    return completed.stdout


def format_python(source: str, filename: str) -> str:
    """``source`` with sorted imports, unused imports removed, and ruff's formatting."""
    fixed = _ruff(["check", "--fix-only", "--exit-zero", "--select", "I,F401"], source, filename)
    return _ruff(["format"], fixed, filename)
