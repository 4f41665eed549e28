"""Adding jobs of one name: validate the payload and the options, then send JSON.

Validation happens before anything reaches Redis. The payload is checked in
the form it travels in: dumped to JSON and validated back, so what a worker
receives is exactly what its schema accepts (a model built with
``model_construct`` or mutated after construction is caught here, not there).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Generic, TypeVar, cast, overload

from pydantic import BaseModel, TypeAdapter, ValidationError

from ..definitions.options import JobOptions
from ..definitions.validation import job_option_problems
from ..errors import BullMQCodegenError
from .adding import add_job, add_jobs
from .handles import EnqueuedJob
from .queue import QueueHandle

__all__ = ["InvalidJobOptionsError", "Producer"]

P = TypeVar("P")
M = TypeVar("M", bound=BaseModel)


class InvalidJobOptionsError(BullMQCodegenError, ValueError):
    """Job options that BullMQ would refuse or misread; nothing was added."""


@cache
def _options_adapter() -> TypeAdapter[JobOptions]:
    return TypeAdapter(JobOptions)


def check_job_options(options: Mapping[str, object], where: str) -> JobOptions:
    """``options`` as valid job options, or :class:`InvalidJobOptionsError` naming each problem."""
    try:
        valid = _options_adapter().validate_python(options, strict=True)
    except ValidationError as error:
        details = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in error.errors()
        )
        raise InvalidJobOptionsError(f"invalid job options for {where}: {details}") from None
    problems = job_option_problems(valid)
    if problems:
        details = "; ".join(f"{key}: {message}" for key, message in problems)
        raise InvalidJobOptionsError(f"invalid job options for {where}: {details}")
    return valid


class Producer(Generic[P]):
    """Adds jobs named ``name`` to ``queue``, their payload validated by ``schema``."""

    __slots__ = ("_defaults", "_where", "name", "queue", "schema")

    @overload
    def __init__(self: Producer[M], queue: QueueHandle, name: str, schema: type[M]) -> None: ...

    @overload
    def __init__(self: Producer[None], queue: QueueHandle, name: str, schema: None) -> None: ...

    def __init__(self, queue: QueueHandle, name: str, schema: type[BaseModel] | None) -> None:
        self.queue = queue
        self.name = name
        self.schema = schema
        self._where = f"job {name!r} of queue {queue.name!r}"
        self._defaults: JobOptions | None = None

    def wire_json(self, payload: P) -> str:
        """The JSON data sent for ``payload``; raises ``ValidationError`` when it is invalid."""
        schema = self.schema
        if schema is None:
            if payload is not None:
                raise TypeError(f"{self._where} takes no payload (its worker has no schema)")
            return "{}"
        model: BaseModel
        if isinstance(payload, schema):
            model = payload
        elif isinstance(payload, Mapping):
            model = schema.model_validate(payload)
        else:
            raise TypeError(
                f"{self._where} takes a {schema.__name__}, not {type(payload).__name__}"
            )
        # Aliases are the names on the wire (what Node sends and the worker validates);
        # computed fields are derived, so they are not sent.
        text = model.model_dump_json(by_alias=True, exclude_computed_fields=True, warnings=False)
        schema.model_validate_json(text)  # what the worker will validate, checked now
        return text

    def job_options(self, options: Mapping[str, object]) -> JobOptions:
        """The queue's default job options overridden by the call's ``options``."""
        if self._defaults is None:
            self._defaults = self.queue.default_job_options
        if not options:
            return dict(self._defaults)  # type: ignore[return-value]
        return cast("JobOptions", {**self._defaults, **check_job_options(options, self._where)})

    async def enqueue(self, payload: P, options: Mapping[str, object]) -> EnqueuedJob[P]:
        """Validate ``payload`` and ``options``, then add one job."""
        data = self.wire_json(payload)
        merged = self.job_options(options)
        job_id = await add_job(self.queue.context(), self.name, data, merged)
        return EnqueuedJob(
            queue=self.queue, id=str(job_id), name=self.name, payload=payload, options=merged
        )

    async def enqueue_bulk(
        self, payloads: Iterable[P], options: Mapping[str, object]
    ) -> list[EnqueuedJob[P]]:
        """Validate every payload, then add all the jobs in one transaction (all or none)."""
        items = list(payloads)
        data = [self.wire_json(payload) for payload in items]
        merged = self.job_options(options)
        if not items:
            return []
        job_ids = await add_jobs(self.queue.context(), self.name, data, merged)
        return [
            EnqueuedJob(
                queue=self.queue, id=str(job_id), name=self.name, payload=payload, options=merged
            )
            for job_id, payload in zip(job_ids, items, strict=True)
        ]
