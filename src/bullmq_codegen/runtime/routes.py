"""A job name of a queue bound to the processor (and schema) that runs it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar, cast, overload

from pydantic import BaseModel

from ..job import Job

__all__ = ["JobRoute"]

P = TypeVar("P")
M = TypeVar("M", bound=BaseModel)


class JobRoute(Generic[P]):
    """Jobs named ``name`` in queue ``queue`` run ``processor``, their data validated by ``schema``.

    Generated code builds one per worker definition; the type checker proves
    there that the processor accepts a ``Job`` of the schema's type. A route is
    inert: workers (``create_workers()``) run it.
    """

    __slots__ = ("name", "processor", "queue", "schema")

    @overload
    def __init__(
        self: JobRoute[M],
        *,
        queue: str,
        name: str,
        schema: type[M],
        processor: Callable[[Job[M]], Awaitable[object]],
    ) -> None: ...

    @overload
    def __init__(
        self: JobRoute[None],
        *,
        queue: str,
        name: str,
        schema: None,
        processor: Callable[[Job[None]], Awaitable[object]],
    ) -> None: ...

    def __init__(
        self,
        *,
        queue: str,
        name: str,
        schema: type[BaseModel] | None,
        processor: Callable[[Job[Any]], Awaitable[object]],
    ) -> None:
        self.queue = queue
        self.name = name
        self.schema = schema
        self.processor = processor

    def parse(self, data_json: str) -> P:
        """The payload of a job whose stored data is ``data_json``; raises ``ValidationError``."""
        if self.schema is None:
            return cast("P", None)
        return cast("P", self.schema.model_validate_json(data_json))

    def __repr__(self) -> str:
        schema = self.schema.__name__ if self.schema is not None else None
        return f"JobRoute(queue={self.queue!r}, name={self.name!r}, schema={schema})"
