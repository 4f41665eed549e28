"""Checks of a worker's job-model keys: its default job options, backoff, job id and dedup."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping

from pydantic import BaseModel

from .options import JobOptions
from .shapes import WorkerDefinition

__all__ = ["BUILTIN_BACKOFFS", "custom_backoff_problem", "derivation_problems"]

BUILTIN_BACKOFFS = ("fixed", "exponential")
"""Backoff types BullMQ computes itself; any other type needs a ``backoffStrategy``."""


def custom_backoff_problem(options: JobOptions, worker: WorkerDefinition) -> str | None:
    """Why ``options``' backoff cannot work for ``worker``: a custom type without a strategy."""
    backoff = options.get("backoff")
    if not isinstance(backoff, Mapping):
        return None
    kind = backoff.get("type")
    if kind in BUILTIN_BACKOFFS or "backoffStrategy" in worker:
        return None
    return (
        f"backoff type {kind!r} is not one BullMQ computes (fixed, exponential): declare the "
        "worker's backoffStrategy to compute its delays"
    )


def derivation_problems(worker: WorkerDefinition) -> list[tuple[str, str]]:
    """Problems of the ``jobId`` and ``deduplication.id`` functions, as ``(key, message)``."""
    problems: list[tuple[str, str]] = []
    schema = worker.get("schema")
    rule = worker.get("deduplication")
    functions: dict[str, object] = {}
    if "jobId" in worker:
        functions["jobId"] = worker["jobId"]
        if rule is not None:
            problems.append(
                (
                    "jobId",
                    "a worker derives a jobId or a deduplication id, not both: BullMQ "
                    "deduplicates by either, and the two would disagree",
                )
            )
    if rule is not None:
        functions["deduplication.id"] = rule["id"]
        ttl = rule.get("ttl")
        if ttl is not None and ttl < 1:
            problems.append(("deduplication.ttl", f"must be 1 or more, not {ttl}"))
    for key, function in functions.items():
        problem = _function_problem(function, schema)
        if problem is not None:
            problems.append((key, problem))
    strategy = worker.get("backoffStrategy")
    if strategy is not None:
        problem = _arity_problem(strategy, 4, "backoffStrategy(attempts_made, type, error, job)")
        if problem is not None:
            problems.append(("backoffStrategy", problem))
    return problems


def _function_problem(function: object, schema: type[BaseModel] | None) -> str | None:
    if not callable(function):
        return f"must be a function of the payload, not {type(function).__name__}"
    if inspect.iscoroutinefunction(function):
        return "must be a plain function (not async): it runs before the job is added"
    problem = _arity_problem(function, 1, "a function of one argument, the payload")
    if problem is not None:
        return problem
    expected = schema if schema is not None else type(None)
    annotation = _first_parameter_type(function)
    if isinstance(annotation, type) and not issubclass(expected, annotation):
        return (
            f"takes a {annotation.__name__}, but this worker's payload is "
            f"{expected.__name__ if schema is not None else 'None (it has no schema)'}"
        )
    return None


def _arity_problem(function: Callable[..., object], count: int, shape: str) -> str | None:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return None
    try:
        signature.bind(*([object()] * count))
    except TypeError:
        return f"must be {shape}; its signature is {signature}"
    return None


def _first_parameter_type(function: Callable[..., object]) -> object:
    try:
        hints = typing.get_type_hints(function)
        first = next(iter(inspect.signature(function).parameters))
    except Exception:
        return None
    return hints.get(first)
