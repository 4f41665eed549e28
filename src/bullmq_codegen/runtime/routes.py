"""A job name of a queue bound to the processor (and schema) that runs it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, cast, overload

from pydantic import BaseModel, TypeAdapter
from typing_extensions import TypeVar

from ..job import Job
from .results import ResultType

__all__ = ["JobRoute"]

P = TypeVar("P")
R = TypeVar("R", default=Any)
G = TypeVar("G", default=float)
M = TypeVar("M", bound=BaseModel)
RT = TypeVar("RT")
GM = TypeVar("GM", bound=BaseModel)


class JobRoute(Generic[P, R, G]):
    """Jobs named ``name`` in queue ``queue`` run ``processor``, their data validated by ``schema``.

    Generated code builds one per worker definition; the type checker proves
    there that the processor accepts a ``Job`` of the schema's type (and of the
    progress model), and infers the result type ``R`` from its return type. A
    route is inert: workers (``create_workers()``) run it.
    """

    __slots__ = ("name", "processor", "progress", "queue", "result", "schema")

    @overload
    def __init__(
        self: JobRoute[M, RT, GM],
        *,
        queue: str,
        name: str,
        schema: type[M],
        processor: Callable[[Job[M, GM]], Awaitable[RT]],
        progress: type[GM],
    ) -> None: ...

    @overload
    def __init__(
        self: JobRoute[M, RT, float],
        *,
        queue: str,
        name: str,
        schema: type[M],
        processor: Callable[[Job[M]], Awaitable[RT]],
        progress: None = None,
    ) -> None: ...

    @overload
    def __init__(
        self: JobRoute[None, RT, GM],
        *,
        queue: str,
        name: str,
        schema: None,
        processor: Callable[[Job[None, GM]], Awaitable[RT]],
        progress: type[GM],
    ) -> None: ...

    @overload
    def __init__(
        self: JobRoute[None, RT, float],
        *,
        queue: str,
        name: str,
        schema: None,
        processor: Callable[[Job[None]], Awaitable[RT]],
        progress: None = None,
    ) -> None: ...

    def __init__(
        self,
        *,
        queue: str,
        name: str,
        schema: type[BaseModel] | None,
        processor: Callable[[Job[Any, Any]], Awaitable[Any]],
        progress: type[BaseModel] | None = None,
    ) -> None:
        self.queue = queue
        self.name = name
        self.schema = schema
        self.processor = processor
        self.progress = progress
        self.result: ResultType[R] = ResultType.of(processor)

    def parse(self, data_json: str) -> P:
        """The payload of a job whose stored data is ``data_json``; raises ``ValidationError``."""
        if self.schema is None:
            return cast("P", None)
        return cast("P", self.schema.model_validate_json(data_json))

    def progress_adapter(self) -> TypeAdapter[G]:
        """How this job name's progress values are validated (a number without a model)."""
        return cast("TypeAdapter[G]", TypeAdapter(self.progress or float))

    def __repr__(self) -> str:
        schema = self.schema.__name__ if self.schema is not None else None
        return f"JobRoute(queue={self.queue!r}, name={self.name!r}, schema={schema})"
