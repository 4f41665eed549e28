"""``define_worker``: a worker definition whose parts the type checker checks against each other.

A worker written as a plain dict is checked key by key; ``define_worker``
also ties its parts together, so the type checker proves that the processor
takes a ``Job`` of the schema (and of the progress model), that a schedule's
``payload`` is an instance of the schema, and that the deduplication and job
id functions take the schema's payload::

    "afterSignUpEmail": define_worker(
        schema=EmailSend,
        processor=send_email,
        schedules={"digest": {"pattern": "0 8 * * *", "payload": EmailSend(...)}},
        deduplication={"id": lambda email: email.to, "ttl": 60_000},
    ),
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar, cast, overload

from pydantic import BaseModel

from ..job import Job
from .options import JobOptions, ScheduleOptions, WorkerOptions
from .shapes import BackoffStrategy, DeduplicationRule, WorkerDefinition

__all__ = ["define_worker"]

M = TypeVar("M", bound=BaseModel)
G = TypeVar("G", bound=BaseModel)

_Options = WorkerOptions
_Defaults = JobOptions


@overload
def define_worker(
    *,
    processor: Callable[[Job[M, G]], Awaitable[object]],
    schema: type[M],
    progress: type[G],
    options: _Options = ...,
    defaultJobOptions: _Defaults = ...,
    schedules: Mapping[str, ScheduleOptions[M]] = ...,
    deduplication: DeduplicationRule[M] = ...,
    jobId: Callable[[M], str] = ...,
    backoffStrategy: BackoffStrategy = ...,
) -> WorkerDefinition: ...


@overload
def define_worker(
    *,
    processor: Callable[[Job[M]], Awaitable[object]],
    schema: type[M],
    options: _Options = ...,
    defaultJobOptions: _Defaults = ...,
    schedules: Mapping[str, ScheduleOptions[M]] = ...,
    deduplication: DeduplicationRule[M] = ...,
    jobId: Callable[[M], str] = ...,
    backoffStrategy: BackoffStrategy = ...,
) -> WorkerDefinition: ...


@overload
def define_worker(
    *,
    processor: Callable[[Job[None, G]], Awaitable[object]],
    progress: type[G],
    options: _Options = ...,
    defaultJobOptions: _Defaults = ...,
    schedules: Mapping[str, ScheduleOptions[None]] = ...,
    deduplication: DeduplicationRule[None] = ...,
    jobId: Callable[[None], str] = ...,
    backoffStrategy: BackoffStrategy = ...,
) -> WorkerDefinition: ...


@overload
def define_worker(
    *,
    processor: Callable[[Job[None]], Awaitable[object]],
    options: _Options = ...,
    defaultJobOptions: _Defaults = ...,
    schedules: Mapping[str, ScheduleOptions[None]] = ...,
    deduplication: DeduplicationRule[None] = ...,
    jobId: Callable[[None], str] = ...,
    backoffStrategy: BackoffStrategy = ...,
) -> WorkerDefinition: ...


def define_worker(**parts: Any) -> WorkerDefinition:
    """The worker definition made of ``parts`` (the keys of :class:`WorkerDefinition`).

    It returns the same dict a plain ``{...}`` literal would be; only the type
    checker sees more. ``create_queue_config`` validates it like any other.
    """
    return cast("WorkerDefinition", dict(parts))
