"""Types are the product: generated code passes mypy --strict and pyright strict, and both
checkers refuse every misuse at the call site (while accepting the correct calls)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bullmq_codegen import BullMQCodeGen

from ..helpers import CASES, EXAMPLES, ROOT

SNIPPETS = Path(__file__).parent / "snippets"
BIN = Path(sys.executable).parent
Findings = dict[str, set[int]]
SNIPPET_NAMES = sorted(path.name for path in SNIPPETS.glob("*.py"))
CHECKED = ["app", "storefront", "shop", "acme", "billing", *SNIPPET_NAMES]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The example, every test case (generated), and the misuse snippets, in one directory."""
    root = tmp_path_factory.mktemp("typed")
    for example in ("app", "storefront"):
        shutil.copytree(
            EXAMPLES / example, root / example, ignore=shutil.ignore_patterns("__pycache__")
        )
    for case, package, definitions in (
        ("shared_queue", "shop", "jobs.py"),
        ("naming", "acme", "defs.py"),
        ("mismatch", "billing", "defs.py"),
    ):
        shutil.copytree(CASES / case / package, root / package)
        BullMQCodeGen(config=root / package / definitions).generate()
    for snippet in SNIPPETS.glob("*.py"):
        shutil.copy(snippet, root / snippet.name)
    (root / "pyrightconfig.json").write_text(
        json.dumps(
            {
                "typeCheckingMode": "strict",
                "pythonVersion": "3.11",
                "reportMissingModuleSource": False,
            }
        )
    )
    return root


def expected_errors(path: Path) -> set[int]:
    return {
        number
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "# expect-error:" in line
    }


def mypy(root: Path) -> Findings:
    completed = subprocess.run(
        [
            str(BIN / "mypy"),
            "--strict",
            "--no-incremental",
            "--python-version",
            "3.11",
            *CHECKED,
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    found: Findings = {}
    for match in re.finditer(r"^(.+?):(\d+): error:", completed.stdout, re.MULTILINE):
        found.setdefault(match.group(1), set()).add(int(match.group(2)))
    assert completed.returncode in (0, 1), completed.stdout + completed.stderr
    return found


def pyright(root: Path) -> Findings:
    completed = subprocess.run(
        [
            str(BIN / "pyright"),
            "--outputjson",
            "--pythonpath",
            sys.executable,
            *CHECKED,
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(completed.stdout)
    found: Findings = {}
    for diagnostic in report["generalDiagnostics"]:
        if diagnostic["severity"] == "error":
            path = str(Path(diagnostic["file"]).relative_to(root))
            found.setdefault(path, set()).add(diagnostic["range"]["start"]["line"] + 1)
    return found


@pytest.fixture(scope="module")
def findings(project: Path) -> dict[str, Findings]:
    return {"mypy": mypy(project), "pyright": pyright(project)}


@pytest.mark.parametrize("checker", ["mypy", "pyright"])
def test_generated_code_has_no_error(findings: dict[str, Findings], checker: str) -> None:
    generated = {path: lines for path, lines in findings[checker].items() if "/generated/" in path}
    # only the mismatch case, where the route and the producer both bind the processor
    assert set(generated) == {
        "billing/generated/workers.py",
        "billing/generated/producers.py",
    }, generated


@pytest.mark.parametrize("snippet", SNIPPET_NAMES)
@pytest.mark.parametrize("checker", ["mypy", "pyright"])
def test_every_misuse_is_an_error_and_correct_calls_are_not(
    findings: dict[str, Findings], checker: str, snippet: str
) -> None:
    assert findings[checker].get(snippet, set()) == expected_errors(SNIPPETS / snippet)


@pytest.mark.parametrize("checker", ["mypy", "pyright"])
def test_a_processor_that_does_not_match_its_schema_is_an_error(
    project: Path, findings: dict[str, Findings], checker: str
) -> None:
    workers = (project / "billing/generated/workers.py").read_text().splitlines()
    route = next(number for number, line in enumerate(workers, 1) if "processor=refund" in line)
    errors = findings[checker]["billing/generated/workers.py"]
    assert errors
    assert all(route - 4 <= line <= route for line in errors), (errors, route)


@pytest.mark.parametrize("checker", ["mypy", "pyright"])
def test_the_package_and_example_pass_strict(checker: str) -> None:
    command = [str(BIN / "mypy")] if checker == "mypy" else [str(BIN / "pyright")]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
