"""Importing a definitions module: names, restored interpreter state, located errors."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from bullmq_codegen import DefinitionError
from bullmq_codegen.loader.importer import imported, parse_target


def write(root: Path, relative: str, source: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    for parent in path.relative_to(root).parents:
        if parent != Path("."):
            (root / parent / "__init__.py").touch()
    path.write_text(textwrap.dedent(source))
    return path


def test_a_file_in_a_package_is_imported_by_its_dotted_name(tmp_path: Path) -> None:
    write(tmp_path, "app/queues/defs.py", "X = 1\n")
    target = parse_target("app/queues/defs.py:queue_config", tmp_path)
    assert (target.module, target.attribute, target.import_root) == (
        "app.queues.defs",
        "queue_config",
        tmp_path,
    )
    assert target.display == "app.queues.defs:queue_config"


def test_a_dotted_module_is_found_from_the_working_directory(tmp_path: Path) -> None:
    path = write(tmp_path, "app/queues/defs.py", "X = 1\n")
    target = parse_target("app.queues.defs", tmp_path)
    assert (target.module, target.path, target.import_root) == ("app.queues.defs", path, tmp_path)


def test_a_missing_file_or_module_is_named(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match=r"app/nope\.py: no such file"):
        parse_target("app/nope.py", tmp_path)
    with pytest.raises(DefinitionError, match="no such module"):
        parse_target("app.nope", tmp_path)
    with pytest.raises(DefinitionError, match="'a b' is not an attribute name"):
        parse_target("defs.py:a b", tmp_path)


def test_import_restores_sys_path_and_sys_modules(tmp_path: Path) -> None:
    write(tmp_path, "pkg/helper.py", "VALUE = 41\n")
    write(tmp_path, "pkg/defs.py", "from pkg.helper import VALUE\nANSWER = VALUE + 1\n")
    path_before, modules_before = list(sys.path), set(sys.modules)
    with imported(parse_target("pkg/defs.py", tmp_path)) as module:
        assert module.ANSWER == 42
        assert "pkg.helper" in sys.modules
    assert sys.path == path_before
    assert set(sys.modules) == modules_before


def test_a_syntax_error_names_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "pkg/defs.py", "X = 1\ndef broken(:\n")
    with pytest.raises(DefinitionError) as raised, imported(parse_target("pkg/defs.py", tmp_path)):
        pass
    assert str(raised.value.problems[0]).startswith("pkg/defs.py:2: syntax error")


def test_an_exception_at_import_names_where_it_was_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "pkg/defs.py", "import os\n\nPORT = int(os.environ['NO_SUCH_VARIABLE_X'])\n")
    with pytest.raises(DefinitionError) as raised, imported(parse_target("pkg/defs.py", tmp_path)):
        pass
    assert str(raised.value.problems[0]) == (
        "pkg/defs.py:3: importing the definitions raised KeyError: 'NO_SUCH_VARIABLE_X'"
    )
    assert "pkg" not in sys.modules


def test_definition_problems_get_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path,
        "pkg/defs.py",
        """\
        from bullmq_codegen import create_queue_config

        async def work(job):
            return None

        queue_config = create_queue_config(
            queues={
                "jobs": {
                    "workers": {
                        "clean": {
                            "processor": work,
                            "options": {"concurency": 2},
                        },
                    },
                },
            },
            connection="redis://localhost",
        )
        """,
    )
    with pytest.raises(DefinitionError) as raised, imported(parse_target("pkg/defs.py", tmp_path)):
        pass
    (problem,) = raised.value.problems
    assert (problem.file, problem.line, problem.queue, problem.worker) == (
        "pkg/defs.py",
        12,
        "jobs",
        "clean",
    )
    assert str(problem).startswith(
        "pkg/defs.py:12: queue 'jobs', worker 'clean', options: unknown key 'concurency'"
    )


def test_a_standard_library_name_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "queue.py", "X = 1\n")
    with pytest.raises(
        DefinitionError, match="'queue' is a standard-library module: rename the file"
    ):
        parse_target("queue.py", tmp_path)


def test_a_directory_is_not_a_definitions_file(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    with pytest.raises(DefinitionError, match="pkg: is a directory: give the definitions file"):
        parse_target("pkg/", tmp_path)
