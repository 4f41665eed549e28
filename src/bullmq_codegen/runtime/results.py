"""A job's result type: what its processor is annotated to return, stored and read as JSON."""

from __future__ import annotations

import typing
from collections.abc import Callable
from functools import cached_property
from typing import Any, Generic, cast

from pydantic import JsonValue, TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError
from typing_extensions import TypeVar

from .wire import NotJSONError, result_json

__all__ = ["ResultType"]

R = TypeVar("R", default=Any)


class ResultType(Generic[R]):
    """Reads and writes the results of one job name, as its processor's return type says.

    A processor without a return annotation has ``JsonValue`` results: stored
    as returned (a Pydantic model as its JSON dump), read back as plain JSON.
    """

    __slots__ = ("__dict__", "_hint")

    def __init__(self, hint: object) -> None:
        self._hint = hint

    @classmethod
    def of(cls, processor: Callable[..., object]) -> ResultType[R]:
        """The result type of ``processor`` (resolved on first use, not now)."""
        return cls(_LazyHint(processor))

    @property
    def hint(self) -> object:
        """The result type (``JsonValue`` when the processor has no return annotation)."""
        hint = self._hint
        if isinstance(hint, _LazyHint):
            hint = self._hint = hint.resolve()
        return hint

    @cached_property
    def adapter(self) -> TypeAdapter[R]:
        """The Pydantic adapter that validates and dumps results."""
        hint: Any = self.hint
        return cast("TypeAdapter[R]", TypeAdapter(hint))

    def dump_json(self, value: object) -> str:
        """The JSON ``value`` is stored as (by alias, as Node would read it).

        A value that is not of the declared type raises ``NotJSONError``, which
        fails the attempt with a reason saying so.
        """
        if value is None:
            return "null"
        hint = self.hint
        if hint in _UNTYPED:
            return result_json(value)
        shown = getattr(hint, "__name__", hint)
        try:
            # As payloads: by alias, computed fields left out (they would not validate back).
            text = self.adapter.dump_json(
                cast("R", value), by_alias=True, exclude_computed_fields=True, warnings="error"
            ).decode()
        except PydanticSerializationError as error:
            raise NotJSONError(
                f"the processor returned {type(value).__name__}, not its declared result type "
                f"{shown} ({error})"
            ) from error
        try:  # what callers will validate: a result they could not read must not complete
            self.adapter.validate_json(text)
        except ValidationError as error:
            raise NotJSONError(
                f"the processor's result does not read back as {shown} once stored as JSON "
                f"({text[:200]}): {error}"
            ) from error
        return text

    def validate_json(self, text: str) -> R:
        """The result stored as ``text``, validated as this type."""
        return self.adapter.validate_json(text)


_UNTYPED: tuple[object, ...] = (JsonValue, object, Any, type(None), None)
"""Return types that say nothing of the result's shape: stored as plain JSON, or refused."""


class _LazyHint:
    __slots__ = ("processor",)

    def __init__(self, processor: Callable[..., object]) -> None:
        self.processor = processor

    def resolve(self) -> object:
        # The loader resolved these hints when the code was generated; if they no longer
        # resolve, say so rather than read results as untyped JSON behind a typed API.
        return typing.get_type_hints(self.processor).get("return", JsonValue)
