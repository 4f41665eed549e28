"""From a definitions module to the model templates render."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bullmq_codegen import DefinitionError
from bullmq_codegen.loader import load_definitions

HEADER = """\
from pydantic import BaseModel
from bullmq_codegen import Job, create_queue_config
"""


def definitions(tmp_path: Path, body: str) -> str:
    package = tmp_path / "pkg"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").touch()
    (package / "defs.py").write_text(HEADER + textwrap.dedent(body))
    return str(package / "defs.py")


def test_the_example_model(tmp_path: Path) -> None:
    model = load_definitions("examples/app/queues/queue_definitions.py")
    assert model.source == "app.queues.queue_definitions:queue_config"
    assert [(q.name, q.python_name, q.handle) for q in model.queues] == [
        ("dbOperations", "db_operations", "db_operations_queue"),
        ("emailSend", "email_send", "email_send_queue"),
    ]
    worker = model.queues[1].workers[0]
    assert (worker.name, worker.producer, worker.route) == (
        "afterSignUpEmail",
        "enqueue_after_sign_up_email",
        "after_sign_up_email_worker",
    )
    assert worker.schema is not None
    assert worker.schema.import_statement == "from app.queues.queue_definitions import EmailSend"
    assert worker.processor.expression == "send_email"


def test_no_config_or_two_configs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = definitions(tmp_path, "X = 1\n")
    with pytest.raises(DefinitionError, match=r"pkg/defs\.py: no QueueConfig found"):
        load_definitions(path)
    path = definitions(
        tmp_path,
        """\
        async def work(job: Job[None]) -> None: ...
        a = create_queue_config(queues={"q": {"workers": {"w": {"processor": work}}}}, connection="redis://x")
        b = create_queue_config(queues={"r": {"workers": {"v": {"processor": work}}}}, connection="redis://x")
        alias = a
        """,
    )
    with pytest.raises(
        DefinitionError,
        match=r"2 QueueConfig objects found \(a, b\): name the one to generate from, e.g. --config pkg/defs.py:a",
    ):
        load_definitions(path)
    assert load_definitions(path + ":b").queues[0].name == "r"
    with pytest.raises(DefinitionError, match="work is function, not a QueueConfig"):
        load_definitions(path + ":work")


def test_symbols_generated_code_cannot_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = definitions(
        tmp_path,
        """\
        def make():
            class Local(BaseModel):
                x: int
            async def inner(job: Job[Local]) -> None: ...
            return Local, inner

        Local, inner = make()

        queue_config = create_queue_config(
            queues={
                "q": {
                    "workers": {
                        "w": {"schema": Local, "processor": inner},
                    },
                },
            },
            connection="redis://x",
        )
        """,
    )
    with pytest.raises(DefinitionError) as raised:
        load_definitions(path)
    found = [str(problem) for problem in raised.value.problems]
    assert found == [
        "pkg/defs.py:15: queue 'q', worker 'w', processor: processor make.<locals>.inner is defined "
        "inside a function or is a lambda: generated code imports it by name, define it at module level",
        "pkg/defs.py:15: queue 'q', worker 'w', schema: schema make.<locals>.Local is defined "
        "inside a function or is a lambda: generated code imports it by name, define it at module level",
    ]


def test_clashing_names_are_aliased(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(Path(__file__).parent.parent / "cases" / "naming", tmp_path / "naming")
    model = load_definitions(str(tmp_path / "naming" / "acme" / "defs.py"))
    statements = sorted(
        {w.schema.import_statement for w in model.workers if w.schema}
        | {w.processor.import_statement for w in model.workers}
    )
    assert "from acme.defs import close_connections as defs_close_connections" in statements
    assert "from acme.models.billing import Invoice as billing_Invoice" in statements
    assert "from acme.models.mail import Invoice" in statements
    nested = next(w for w in model.workers if w.name == "ping-host")
    assert nested.schema is not None
    assert nested.schema.expression == "Outer.Payload"
    assert model.config.expression == "config"


def test_result_types_are_spelled_for_generated_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = definitions(
        tmp_path,
        """\
        from typing import Literal

        class Row(BaseModel):
            x: int

        class Percent(BaseModel):
            done: int

        async def rows(job: Job[None]) -> list[Row] | None: ...
        async def table(job: Job[None, Percent]) -> dict[str, tuple[int, ...]]: ...
        async def state(job: Job[None]) -> Literal["ok", "late"]: ...
        async def untyped(job: Job[None]): ...

        queue_config = create_queue_config(
            queues={
                "q": {
                    "workers": {
                        "rows": {"processor": rows},
                        "table": {"processor": table, "progress": Percent},
                        "state": {"processor": state},
                        "untyped": {"processor": untyped},
                    },
                },
            },
            connection="redis://x",
        )
        """,
    )
    model = load_definitions(path)
    workers = {worker.name: worker for worker in model.workers}
    assert workers["rows"].result.expression == "list[Row] | None"
    assert workers["rows"].result.import_statements == ("from pkg.defs import Row",)
    assert workers["table"].result.expression == "dict[str, tuple[int, ...]]"
    assert workers["table"].progress_type == "Percent"
    assert workers["state"].result.expression == "Literal['ok', 'late']"
    assert workers["state"].result.import_statements == ("from typing import Literal",)
    assert workers["untyped"].result.expression == "JsonValue"
    assert workers["untyped"].progress_type == "float"


def test_result_types_generated_code_cannot_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = definitions(
        tmp_path,
        """\
        from typing import TypeVar

        T = TypeVar("T")

        def make():
            class Local(BaseModel):
                x: int
            return Local

        Local = make()

        async def local(job: Job[None]) -> Local: ...
        async def generic(job: Job[None]) -> T: ...
        async def unresolved(job: Job[None]) -> "Missing": ...

        queue_config = create_queue_config(
            queues={
                "q": {
                    "workers": {
                        "local": {"processor": local},
                        "generic": {"processor": generic},
                        "unresolved": {"processor": unresolved},
                    },
                },
            },
            connection="redis://x",
        )
        """,
    )
    with pytest.raises(DefinitionError) as raised:
        load_definitions(path)
    found = [str(problem) for problem in raised.value.problems]
    assert found[0] == (
        "pkg/defs.py:23: queue 'q', worker 'generic', processor: processor generic: its return "
        "type cannot be written in generated code: T is not a class, a builtin or a union of them"
    )
    assert found[1] == (
        "pkg/defs.py:22: queue 'q', worker 'local', processor: processor local: its return type "
        "cannot be written in generated code: result type make.<locals>.Local is defined inside "
        "a function or is a lambda: generated code imports it by name, define it at module level"
    )
    assert found[2].startswith(
        "pkg/defs.py:24: queue 'q', worker 'unresolved', processor: processor unresolved: its "
        "annotations cannot be resolved (NameError"
    )


def test_a_generic_model_result_is_spelled_with_its_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = definitions(
        tmp_path,
        """\
        from typing import Generic, TypeVar

        T = TypeVar("T")

        class Item(BaseModel):
            sku: str

        class Page(BaseModel, Generic[T]):
            items: list[T]

        async def page(job: Job[None]) -> Page[Item]: ...

        queue_config = create_queue_config(
            queues={"q": {"workers": {"page": {"processor": page}}}},
            connection="redis://x",
        )
        """,
    )
    worker = load_definitions(path).workers[0]
    assert worker.result.expression == "Page[Item]"
    assert sorted(worker.result.import_statements) == [
        "from pkg.defs import Item",
        "from pkg.defs import Page",
    ]
