"""The environment variables a definitions module reads, and what a container sets them to.

The definitions file is read, not run: every ``os.environ["X"]``,
``os.environ.get("X")`` and ``os.getenv("X")`` (also through ``from os import
environ, getenv``) with a literal name counts. Variables read elsewhere (a
settings module the definitions import) are not seen: name them under ``env``
in ``[tool.bullmq-codegen.deploy]``.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .settings import DeployError

__all__ = ["ContainerEnv", "container_env", "variables_read"]


def variables_read(path: Path) -> tuple[str, ...]:
    """Names of the environment variables ``path`` reads, in the order they first appear."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, ValueError) as error:
        raise DeployError(f"cannot read the definitions {path}: {error}") from None
    found: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.expr) and (name := _read_name(node)) is not None:
            found.append((node.lineno, node.col_offset, name))
    return tuple(dict.fromkeys(name for _, _, name in sorted(found)))


def _is_environ(node: ast.expr) -> bool:
    """``os.environ`` or a bare ``environ``."""
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ"
    )


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _read_name(node: ast.expr) -> str | None:
    """The variable name ``node`` reads from the environment, if it does."""
    if isinstance(node, ast.Subscript) and _is_environ(node.value):
        return _literal(node.slice)
    if not isinstance(node, ast.Call) or not node.args:
        return None
    function = node.func
    getenv = (isinstance(function, ast.Attribute) and function.attr == "getenv") or (
        isinstance(function, ast.Name) and function.id == "getenv"
    )
    environ_get = (
        isinstance(function, ast.Attribute)
        and function.attr in ("get", "setdefault")
        and _is_environ(function.value)
    )
    return _literal(node.args[0]) if getenv or environ_get else None


@dataclass(frozen=True, slots=True)
class ContainerEnv:
    """What compose and Kubernetes set, and what they leave to the user."""

    values: dict[str, str]
    """Set by the file: the bundled Redis for Redis-ish names, then the settings' ``env``."""
    unset: tuple[str, ...]
    """Read by the definitions, set by nothing here: the user provides them."""


def _redis_value(name: str) -> str | None:
    """The bundled Redis service's value for a variable named like a Redis address part."""
    upper = name.upper()
    if "REDIS" not in upper:
        return None
    if any(word in upper for word in ("URL", "URI", "DSN")):
        return "redis://redis:6379/0"
    if "HOST" in upper:
        return "redis"
    if "PORT" in upper:
        return "6379"
    return None


def container_env(read: Sequence[str], env: Mapping[str, str]) -> ContainerEnv:
    """``read``'s Redis host, port and URL variables pointed at the ``redis`` service; ``env`` wins."""
    values = {name: value for name in read if (value := _redis_value(name)) is not None}
    values.update(env)
    return ContainerEnv(values, tuple(name for name in read if name not in values))
