"""Where the definitions are and where generated code goes: CLI flags, then pyproject.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from ..errors import ConfigurationError, Problem

__all__ = ["GenerateSettings", "find_pyproject", "project_table", "resolve_settings"]

_TABLE = "bullmq-codegen"


@dataclass(frozen=True, slots=True)
class GenerateSettings:
    """The resolved inputs of one generation."""

    config: str
    """The definitions: a file path or dotted module, optionally ``:attribute``."""
    base_dir: Path
    """The directory ``config`` is resolved (and a dotted module imported) from."""
    out_dir: Path | None
    """Where generated files go; ``None``: a ``generated/`` package beside the definitions."""
    templates_dir: Path | None
    """A directory whose templates override the built-in ones of the same name."""


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start`` that has ``[tool.bullmq-codegen]``."""
    for directory in [start, *start.parents]:
        candidate = directory / "pyproject.toml"
        if candidate.is_file() and _table(candidate) is not None:
            return candidate
    return None


def project_table(name: str, start: Path) -> dict[str, Any]:
    """``[tool.bullmq-codegen.<name>]`` of the nearest configured pyproject.toml (empty if none)."""
    pyproject = find_pyproject(start)
    table = (_table(pyproject) or {}) if pyproject is not None else {}
    section = table.get(name, {})
    return cast("dict[str, Any]", section) if isinstance(section, dict) else {}


def _table(pyproject: Path) -> dict[str, Any] | None:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    table = data.get("tool", {}).get(_TABLE)
    return cast("dict[str, Any]", table) if isinstance(table, dict) else None


def resolve_settings(
    *,
    config: str | None,
    out_dir: Path | None,
    templates_dir: Path | None,
    cwd: Path,
) -> GenerateSettings:
    """Flags win; what they leave unset comes from ``[tool.bullmq-codegen]`` in pyproject.toml.

    Paths from the flags are relative to ``cwd``, paths from pyproject.toml to
    the directory of that file. The configured ``out`` applies only to the
    configured ``config``: with ``--config``, output goes beside it (or to ``--out``).
    """
    pyproject = find_pyproject(cwd)
    table = _table(pyproject) if pyproject is not None else {}
    table = table or {}
    known = ("config", "out", "templates", "workers", "deploy")
    problems = [
        Problem(
            f"unknown key {key!r} in [tool.bullmq-codegen] (known: {', '.join(known)})",
            file=str(pyproject),
        )
        for key in table
        if key not in known
    ]
    if problems:
        raise ConfigurationError(problems)
    project_dir = pyproject.parent if pyproject is not None else cwd
    base_dir = cwd
    if config is None:
        configured = table.get("config")
        if not isinstance(configured, str) or not configured:
            raise ConfigurationError(
                [
                    Problem(
                        "no definitions given: pass --config PATH_OR_MODULE or set "
                        'config = "path/to/queue_definitions.py" under [tool.bullmq-codegen] '
                        "in pyproject.toml"
                    )
                ]
            )
        config, base_dir = configured, project_dir
    from_pyproject = base_dir == project_dir and config == table.get("config")
    if out_dir is None and from_pyproject and isinstance(table.get("out"), str):
        # the configured output belongs to the configured definitions, not to a --config given here
        out_dir = project_dir / str(table["out"])
    if templates_dir is None and isinstance(table.get("templates"), str):
        templates_dir = project_dir / str(table["templates"])
    return GenerateSettings(
        config=config,
        base_dir=base_dir,
        out_dir=(cwd / out_dir) if out_dir is not None else None,
        templates_dir=(cwd / templates_dir) if templates_dir is not None else None,
    )
