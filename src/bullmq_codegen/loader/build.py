"""From an imported definitions module to the :class:`DefinitionsModel`.

This is where the loader checks what only code generation needs: exactly one
``QueueConfig`` in the module, and schemas and processors that generated code
can import by name.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from ..definitions.config import QueueConfig
from ..definitions.naming import snake_case
from ..errors import DefinitionError, Problem
from .annotations import return_type, spell_type
from .importer import DefinitionsTarget, imported, parse_target, shown_path
from .model import DefinitionsModel, QueueModel, SymbolRef, TypeExpr, WorkerModel
from .source import SourceIndex

__all__ = ["GENERATED_NAMES", "load_definitions", "loaded_definitions"]

GENERATED_NAMES = frozenset(
    {
        "Final",
        "Literal",
        "Unpack",
        "Iterable",
        "Collection",
        "Sequence",
        "annotations",
        "runtime",
        "close_connections",
        "get_worker_health",
        "main",
        "create_workers",
        "QueueName",
        "WorkerName",
        "ROUTES",
        "EnqueuedJob",
        "JobOptions",
        "JobRef",
        "JobFailed",
        "Callback",
        "ProgressCallback",
        "ResultCallback",
        "Subscription",
        "FlowNode",
        "add_flow",
        "JobPage",
        "ListableState",
        "JobRoute",
        "Producer",
        "QueueHandle",
        "Runtime",
        "WorkerGroup",
        "WorkerListener",
    }
)
"""Names generated modules define or import themselves: user symbols are renamed around them."""


def load_definitions(spec: str, cwd: Path | None = None) -> DefinitionsModel:
    """Import the definitions ``spec`` names and describe them for code generation.

    Raises :class:`DefinitionError` listing every problem found.
    """
    with loaded_definitions(spec, cwd) as (model, _):
        return model


@contextmanager
def loaded_definitions(
    spec: str, cwd: Path | None = None
) -> Generator[tuple[DefinitionsModel, QueueConfig], None, None]:
    """The definitions ``spec`` names, described, and their ``QueueConfig`` itself, while the
    module stays imported (its user modules are forgotten on exit, as for
    :func:`load_definitions`)."""
    target = parse_target(spec, cwd or Path.cwd())
    with imported(target) as module:
        yield _build(target, module), _find_config(target, module)[1]


def _build(target: DefinitionsTarget, module: ModuleType) -> DefinitionsModel:
    attribute, config = _find_config(target, module)
    index = SourceIndex.of(target.path)
    shown = shown_path(target.path)
    names = _Aliases(GENERATED_NAMES | _derived_names(config))
    config_ref = names.ref(target.module, attribute, "")
    problems: list[Problem] = []
    queues: list[QueueModel] = []
    for queue_name in sorted(config.queues, key=snake_case):
        workers: list[WorkerModel] = []
        for worker_name in sorted(config.queue(queue_name)["workers"], key=snake_case):
            definition = config.worker(queue_name, worker_name)
            line = index.line_of(queue_name, worker_name)
            refs: dict[str, SymbolRef | None] = {"schema": None, "progress": None}
            for key in ("processor", "schema", "progress"):
                if key not in definition:
                    continue
                found = _symbol(definition.get(key), key, names)
                if isinstance(found, str):
                    problems.append(
                        Problem(
                            found,
                            queue=queue_name,
                            worker=worker_name,
                            key=key,
                            file=shown,
                            line=line,
                        )
                    )
                else:
                    refs[key] = found
            processor = refs.get("processor")
            if processor is None or any(
                key in definition and refs[key] is None for key in ("schema", "progress")
            ):
                continue
            result = _result_type(definition["processor"], names)
            if isinstance(result, str):
                problems.append(
                    Problem(
                        f"processor {processor.expression}: {result}",
                        queue=queue_name,
                        worker=worker_name,
                        key="processor",
                        file=shown,
                        line=line,
                    )
                )
                continue
            workers.append(
                WorkerModel(
                    name=worker_name,
                    python_name=snake_case(worker_name),
                    queue=queue_name,
                    queue_python_name=snake_case(queue_name),
                    processor=processor,
                    schema=refs["schema"],
                    line=line,
                    result=result,
                    progress=refs["progress"],
                )
            )
        queues.append(
            QueueModel(
                name=queue_name,
                python_name=snake_case(queue_name),
                workers=tuple(workers),
                line=index.line_of(queue_name),
            )
        )
    if problems:
        raise DefinitionError(problems)
    source = f"{target.module}:{attribute}"
    return DefinitionsModel(
        module=target.module, config=config_ref, source=source, queues=tuple(queues)
    )


def _result_type(processor: object, names: _Aliases) -> TypeExpr | str:
    """The processor's result type as generated code writes it, or why it cannot."""
    assert callable(processor)
    hint, problem = return_type(processor)
    if problem is not None:
        return problem
    spelled = spell_type(hint, lambda cls: _symbol(cls, "result type", names))
    if isinstance(spelled, str):
        return f"its return type cannot be written in generated code: {spelled}"
    return spelled


def _find_config(target: DefinitionsTarget, module: ModuleType) -> tuple[str, QueueConfig]:
    shown = shown_path(target.path)
    if target.attribute is not None:
        found = getattr(module, target.attribute, None)
        if not isinstance(found, QueueConfig):
            kind = "nothing" if found is None else type(found).__name__
            raise DefinitionError(
                [Problem(f"{target.attribute} is {kind}, not a QueueConfig", file=shown)]
            )
        return target.attribute, found
    by_identity: dict[int, list[str]] = {}
    for name, value in vars(module).items():
        if isinstance(value, QueueConfig):
            by_identity.setdefault(id(value), []).append(name)
    if not by_identity:
        raise DefinitionError(
            [
                Problem(
                    "no QueueConfig found: define one at module level, e.g. "
                    "queue_config = create_queue_config(queues=..., connection=...)",
                    file=shown,
                )
            ]
        )
    if len(by_identity) > 1:
        listed = ", ".join(sorted(min(names) for names in by_identity.values()))
        raise DefinitionError(
            [
                Problem(
                    f"{len(by_identity)} QueueConfig objects found ({listed}): name the one to "
                    f"generate from, e.g. --config {shown}:{min(listed.split(', '))}",
                    file=shown,
                )
            ]
        )
    names = next(iter(by_identity.values()))
    attribute = "queue_config" if "queue_config" in names else sorted(names)[0]
    return attribute, getattr(module, attribute)


def _derived_names(config: QueueConfig) -> frozenset[str]:
    """The names generated code derives from the definitions (``email_send_queue``...)."""
    names: set[str] = set()
    for queue_name, queue in config.queues.items():
        names.add(f"{snake_case(queue_name)}_queue")
        for worker_name in queue["workers"]:
            worker = snake_case(worker_name)
            names.update(
                {
                    f"enqueue_{worker}",
                    f"enqueue_{worker}_and_wait",
                    f"enqueue_{worker}_bulk",
                    f"get_{worker}_job",
                    f"listen_{worker}",
                    f"{worker}_node",
                    f"list_{worker}_jobs",
                    f"{worker}_worker",
                    f"_{worker}",
                }
            )
    return frozenset(names)


class _Aliases:
    """Local names of imported symbols: unique, and clear of the names generated code defines."""

    def __init__(self, reserved: frozenset[str]) -> None:
        self._reserved = reserved
        self._taken: dict[str, tuple[str, str]] = {}

    def _free(self, alias: str, owner: tuple[str, str]) -> bool:
        return alias not in self._reserved and self._taken.get(alias, owner) == owner

    def ref(self, module: str, name: str, attribute_path: str) -> SymbolRef:
        alias = name
        if not self._free(name, (module, name)):
            base = f"{module.rsplit('.', 1)[-1]}_{name}"
            alias, counter = base, 2
            while not self._free(alias, (module, name)):
                alias, counter = f"{base}_{counter}", counter + 1
        self._taken[alias] = (module, name)
        return SymbolRef(module=module, name=name, alias=alias, attribute_path=attribute_path)


def _symbol(obj: object, what: str, names: _Aliases) -> SymbolRef | str:
    """How generated code imports ``obj``, or why it cannot."""
    module_name = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not isinstance(module_name, str) or not isinstance(qualname, str):
        return (
            f"{what} {obj!r} has no importable name: generated code imports it by name, "
            f"so make it a module-level {'async function' if what == 'processor' else 'class'}"
        )
    if "<locals>" in qualname or "<lambda>" in qualname:
        return (
            f"{what} {qualname} is defined inside a function or is a lambda: generated code "
            "imports it by name, define it at module level"
        )
    if module_name == "__main__":
        return f"{what} {qualname} is defined in __main__, which generated code cannot import"
    try:
        module = sys.modules.get(module_name) or importlib.import_module(module_name)
    except Exception as error:
        return f"{what} {qualname}: its module {module_name} cannot be imported ({error})"
    top, *rest = qualname.split(".")
    found: object = module
    for part in [top, *rest]:
        found = getattr(found, part, None)
    if found is not obj:
        return (
            f"{what} {qualname} is not reachable as {module_name}.{qualname} (renamed or "
            "replaced after definition?): generated code imports it by that name"
        )
    path = "".join(f".{part}" for part in rest)
    return names.ref(module_name, top, path)
