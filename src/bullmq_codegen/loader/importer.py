"""Importing a user's definitions module without leaving traces.

The target is a file (``app/queues/queue_definitions.py``) or a dotted module
(``app.queues.queue_definitions``), optionally followed by ``:attribute``. A
file is imported under its package's dotted name (found by walking up the
``__init__.py`` files), so that generated code can import it by that name.
``sys.path`` and ``sys.modules`` are restored afterwards.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import traceback
from collections.abc import Generator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from ..errors import ConfigurationError, DefinitionError, Problem

__all__ = ["DefinitionsTarget", "imported", "parse_target", "shown_path"]


@dataclass(frozen=True, slots=True)
class DefinitionsTarget:
    """Where the definitions are: a module name, the directory to import it from, its file."""

    module: str
    attribute: str | None
    import_root: Path
    path: Path

    @property
    def display(self) -> str:
        """``module`` or ``module:attribute``, as shown in messages and headers."""
        return f"{self.module}:{self.attribute}" if self.attribute else self.module


def parse_target(spec: str, cwd: Path) -> DefinitionsTarget:
    """Resolve ``spec`` (a path or a dotted module, optionally ``:attribute``) from ``cwd``."""
    location, _, attribute = spec.partition(":")
    if attribute and not attribute.isidentifier():
        raise ConfigurationError([Problem(f"{attribute!r} is not an attribute name", file=spec)])
    if location.endswith(".py") or "/" in location or "\\" in location:
        return _file_target(Path(location), attribute or None, cwd)
    return _module_target(location, attribute or None, cwd)


def _file_target(path: Path, attribute: str | None, cwd: Path) -> DefinitionsTarget:
    file = (cwd / path).resolve()
    if file.is_dir():
        raise ConfigurationError(
            [
                Problem(
                    "is a directory: give the definitions file (queue_definitions.py)",
                    file=str(path),
                )
            ]
        )
    if not file.is_file():
        raise ConfigurationError([Problem("no such file", file=str(path))])
    if file.suffix != ".py":
        raise ConfigurationError(
            [Problem("definitions must be a Python file (.py)", file=str(path))]
        )
    parts = [file.stem]
    directory = file.parent
    while (directory / "__init__.py").is_file():
        parts.insert(0, directory.name)
        directory = directory.parent
    bad = [part for part in parts if not part.isidentifier()]
    if bad:
        raise ConfigurationError(
            [Problem(f"{bad[0]!r} is not a valid Python module name", file=str(path))]
        )
    if parts[0] in sys.stdlib_module_names:
        raise ConfigurationError(
            [
                Problem(
                    f"the module would be imported as {'.'.join(parts)!r}, but {parts[0]!r} is a "
                    "standard-library module: rename the file (or put it in a package)",
                    file=str(path),
                )
            ]
        )
    return DefinitionsTarget(".".join(parts), attribute, directory, file)


def _module_target(module: str, attribute: str | None, cwd: Path) -> DefinitionsTarget:
    if not all(part.isidentifier() for part in module.split(".")):
        raise ConfigurationError([Problem("not a file path nor a dotted module name", file=module)])
    with _path_entry(cwd):
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError) as error:
            raise ConfigurationError(
                [
                    Problem(
                        f"no such module (looked from the current directory): {error}", file=module
                    )
                ]
            ) from None
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        raise ConfigurationError(
            [Problem("no such module (looked from the current directory)", file=module)]
        )
    file = Path(spec.origin).resolve()
    root = file.parent
    for _ in module.split(".")[1:]:
        root = root.parent
    return DefinitionsTarget(module, attribute, root, file)


@contextmanager
def _path_entry(directory: Path) -> Generator[None, None, None]:
    """``directory`` first on ``sys.path``; parent packages ``find_spec`` imports are forgotten."""
    saved = list(sys.path)
    saved_modules = set(sys.modules)
    sys.path.insert(0, str(directory))
    try:
        yield
    finally:
        sys.path[:] = saved
        for name in set(sys.modules) - saved_modules:
            del sys.modules[name]


@contextmanager
def imported(target: DefinitionsTarget) -> Generator[ModuleType, None, None]:
    """Import ``target``'s module; on exit restore ``sys.path`` and ``sys.modules``.

    Import failures become a :class:`DefinitionError` that names the file and
    line (a syntax error, an exception raised while importing, or the problems
    ``create_queue_config`` found).
    """
    saved_modules = set(sys.modules)
    saved_path = list(sys.path)
    sys.path.insert(0, str(target.import_root))
    importlib.invalidate_caches()
    try:
        try:
            module = importlib.import_module(target.module)
        except DefinitionError as error:
            raise DefinitionError(
                [_in_file(problem, target) for problem in error.problems]
            ) from None
        except SyntaxError as error:
            where = Path(error.filename) if error.filename else target.path
            raise DefinitionError(
                [Problem(f"syntax error: {error.msg}", file=shown_path(where), line=error.lineno)]
            ) from None
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # SystemExit too: a module that exits on import
            raise DefinitionError([_import_failure(error, target)]) from None
        if Path(module.__file__ or "").resolve() != target.path:
            raise DefinitionError(
                [
                    Problem(
                        f"importing {target.module!r} found another module at {module.__file__}: "
                        "rename the file or its package",
                        file=shown_path(target.path),
                    )
                ]
            )
        yield module
    finally:
        sys.path[:] = saved_path
        root = str(target.import_root)
        for name in set(sys.modules) - saved_modules:
            # forget the user's modules (a later load must see their edits); third-party
            # ones imported meanwhile stay, as re-importing C extensions is unsafe
            file = getattr(sys.modules[name], "__file__", None) or ""
            mine = file.startswith(root) and not file.startswith(sys.prefix)
            if mine or name.split(".")[0] == target.module.split(".")[0]:
                del sys.modules[name]


def _in_file(problem: Problem, target: DefinitionsTarget) -> Problem:
    from .source import SourceIndex

    line = SourceIndex.of(target.path).line_of(problem.queue, problem.worker, problem.key)
    return Problem(
        problem.message,
        queue=problem.queue,
        worker=problem.worker,
        key=problem.key,
        file=shown_path(target.path),
        line=line,
    )


def _import_failure(error: BaseException, target: DefinitionsTarget) -> Problem:
    frames = traceback.extract_tb(error.__traceback__)
    user = [frame for frame in frames if frame.filename.startswith(str(target.import_root))]
    frame = user[-1] if user else (frames[-1] if frames else None)
    message = f"importing the definitions raised {type(error).__name__}: {error}"
    if frame is None:
        return Problem(message, file=shown_path(target.path))
    return Problem(message, file=shown_path(Path(frame.filename)), line=frame.lineno)


def shown_path(path: Path) -> str:
    """``path`` relative to the current directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
