"""Finding where a queue, a worker or an option is written in a definitions file."""

from __future__ import annotations

import ast
from pathlib import Path

__all__ = ["SourceIndex"]


class SourceIndex:
    """The dict literals of one Python file, indexed by the string keys written in them."""

    def __init__(self, tree: ast.AST | None) -> None:
        self._by_key: dict[str, list[ast.Dict]] = {}
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.Dict):
                for key in node.keys:
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        self._by_key.setdefault(key.value, []).append(node)

    @classmethod
    def of(cls, path: Path) -> SourceIndex:
        """The index of ``path`` (empty when it cannot be read or parsed)."""
        try:
            return cls(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        except (OSError, SyntaxError, ValueError):
            return cls(None)

    def line_of(
        self, queue: str | None, worker: str | None = None, key: str | None = None
    ) -> int | None:
        """The line of the deepest of queue → ``workers`` → worker → option keys found."""
        if queue is None:
            return None
        path = [queue]
        if worker is not None:
            path += ["workers", worker]
        if key:
            path += key.split(".")
        best: int | None = None
        best_depth = 0
        for node in self._by_key.get(queue, ()):
            line, depth = _follow(node, path)
            if depth > best_depth:
                best, best_depth = line, depth
        return best


def _follow(node: ast.Dict, path: list[str]) -> tuple[int | None, int]:
    """The line of the deepest key of ``path`` found from ``node`` down, and how deep it is."""
    line: int | None = None
    depth = 0
    current: ast.expr = node
    for part in path:
        if not isinstance(current, ast.Dict):
            break
        value = _value_of(current, part)
        if value is None:
            break
        key_node, current = value
        line, depth = key_node.lineno, depth + 1
    return line, depth


def _value_of(node: ast.Dict, key: str) -> tuple[ast.expr, ast.expr] | None:
    for key_node, value in zip(node.keys, node.values, strict=True):
        if isinstance(key_node, ast.Constant) and key_node.value == key:
            return key_node, value
    return None
