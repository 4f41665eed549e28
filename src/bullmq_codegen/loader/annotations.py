"""A processor's return annotation as generated code spells it: the job's result type.

Generated producers declare ``Producer[Payload, Result]``, so the result type
must be written in generated code: ``None``, builtins, importable classes, and
``list``/``dict``/``tuple``/``set``/unions/``Literal``/``Optional`` of those.
Anything else (a local class, a ``TypeVar``) is a definition problem that
names the processor.
"""

from __future__ import annotations

import builtins
import types
import typing
from collections.abc import Callable
from typing import Any, get_args, get_origin

from pydantic import JsonValue, TypeAdapter

from .model import SymbolRef, TypeExpr

__all__ = ["return_type", "spell_type"]

_BUILTIN_GENERICS = {list: "list", dict: "dict", tuple: "tuple", set: "set", frozenset: "frozenset"}


def return_type(processor: Callable[..., object]) -> tuple[object, str | None]:
    """The processor's declared result type (``JsonValue`` when unannotated), or why it has none."""
    try:
        hints = typing.get_type_hints(processor)
    except Exception as error:
        return None, f"its annotations cannot be resolved ({type(error).__name__}: {error})"
    if "return" not in hints:
        return JsonValue, None
    result = hints["return"]
    try:
        TypeAdapter(result)
    except Exception as error:
        return None, (
            f"its return type {_shown(result)} is not one Pydantic can validate "
            f"({type(error).__name__}: {str(error).splitlines()[0]})"
        )
    return result, None


def spell_type(hint: object, symbol: Callable[[object], SymbolRef | str]) -> TypeExpr | str:
    """``hint`` as a type expression, or why generated code cannot write it.

    ``symbol(cls)`` gives the import of a user class (or a reason it has none).
    """
    if hint is None or hint is type(None):
        return TypeExpr("None")
    if hint is JsonValue:
        return TypeExpr("JsonValue", imports=("from pydantic import JsonValue",))
    if hint is Any:
        return TypeExpr("Any", imports=("from typing import Any",))
    origin = get_origin(hint)
    args = get_args(hint)
    if origin is typing.Literal:
        if all(isinstance(arg, str | int | bool) for arg in args):
            return TypeExpr(
                f"Literal[{', '.join(repr(arg) for arg in args)}]",
                imports=("from typing import Literal",),
            )
        return f"Literal{list(args)!r} holds values other than str, int and bool"
    if origin in (typing.Union, types.UnionType):
        return _join([spell_type(arg, symbol) for arg in args], " | ", "{}")
    if origin in _BUILTIN_GENERICS:
        parts = [TypeExpr("...") if arg is Ellipsis else spell_type(arg, symbol) for arg in args]
        return _join(parts, ", ", _BUILTIN_GENERICS[origin] + "[{}]")
    if origin is not None:
        return f"{_shown(hint)} is a generic type generated code cannot write"
    generic = getattr(hint, "__pydantic_generic_metadata__", None)
    if isinstance(hint, type) and generic and generic.get("origin") is not None:
        # a parametrized generic model (Page[Item]): its origin class, then its arguments
        base = spell_type(generic["origin"], symbol)
        arguments = _join([spell_type(arg, symbol) for arg in generic["args"]], ", ", "{}")
        if isinstance(base, str) or isinstance(arguments, str):
            return base if isinstance(base, str) else str(arguments)
        return TypeExpr(
            f"{base.expression}[{arguments.expression}]",
            symbols=(*base.symbols, *arguments.symbols),
            imports=(*base.imports, *arguments.imports),
        )
    if isinstance(hint, type):
        name = _shown(hint)
        if getattr(builtins, name, None) is hint:
            return TypeExpr(name)
        found = symbol(hint)
        if isinstance(found, str):
            return found
        return TypeExpr(found.expression, symbols=(found,))
    return f"{_shown(hint)} is not a class, a builtin or a union of them"


def _join(parts: list[TypeExpr | str], separator: str, shape: str) -> TypeExpr | str:
    for part in parts:
        if isinstance(part, str):
            return part
    exprs = [part for part in parts if isinstance(part, TypeExpr)]
    return TypeExpr(
        shape.format(separator.join(part.expression for part in exprs)),
        symbols=tuple(s for part in exprs for s in part.symbols),
        imports=tuple(i for part in exprs for i in part.imports),
    )


def _shown(hint: object) -> str:
    name = getattr(hint, "__name__", None)
    return name if isinstance(name, str) else repr(hint)
