"""The test kit's helpers keep the route's types, under mypy --strict and pyright strict."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
SNIPPET = HERE / "typed_usage.py"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def project(shop_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("typed-testkit")
    shutil.copytree(shop_root / "shop", root / "shop", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(SNIPPET, root / SNIPPET.name)
    (root / "pyrightconfig.json").write_text(
        json.dumps({"typeCheckingMode": "strict", "pythonVersion": "3.11"})
    )
    return root


def expected() -> set[int]:
    lines = SNIPPET.read_text().splitlines()
    return {number for number, line in enumerate(lines, 1) if line.endswith("# expect-error")}


def test_mypy(project: Path) -> None:
    completed = subprocess.run(
        [
            str(BIN / "mypy"),
            "--strict",
            "--no-incremental",
            "--python-version",
            "3.11",
            SNIPPET.name,
            "shop",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    found = {
        int(match.group(1))
        for match in re.finditer(rf"^{SNIPPET.name}:(\d+): error:", completed.stdout, re.MULTILINE)
    }
    assert found == expected(), completed.stdout


def test_pyright(project: Path) -> None:
    completed = subprocess.run(
        [str(BIN / "pyright"), "--outputjson", "--pythonpath", sys.executable, SNIPPET.name],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(completed.stdout)
    found = {
        diagnostic["range"]["start"]["line"] + 1
        for diagnostic in report["generalDiagnostics"]
        if diagnostic["severity"] == "error"
    }
    assert found == expected(), json.dumps(report["generalDiagnostics"], indent=1)
