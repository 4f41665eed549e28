"""Validation of the definitions passed to ``create_queue_config``.

Structure (known keys, value types) is checked against the very TypedDicts the
editor uses, through Pydantic; meaning (names, async processors, options that
must agree across the workers of one queue) is checked here. Every problem is
collected, none stops the others from being found.
"""

from __future__ import annotations

import difflib
import inspect
import re
import types
import typing
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Union, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails
from typing_extensions import is_typeddict

from ..errors import Problem
from .connection import ConnectionSpec, RedisConnectionOptions, connection_problems
from .inapplicable import INAPPLICABLE_WORKER_OPTIONS
from .moves import drained_queues, moved_problems
from .naming import name_problem, snake_case
from .options import JobOptions, WorkerOptions
from .schedules import schedule_problems, shared_schedule_problems
from .shapes import QueueDefinition, WorkerDefinition
from .worker_checks import custom_backoff_problem, derivation_problems

__all__ = ["QUEUE_LEVEL_WORKER_OPTIONS", "validate_definitions"]

QUEUE_LEVEL_WORKER_OPTIONS: tuple[str, ...] = (
    "limiter",
    "lockDuration",
    "lockRenewTime",
    "stalledInterval",
    "maxStalledCount",
    "drainDelay",
    "name",
    "skipStalledCheck",
    "skipLockRenewal",
    "metrics",
    "maximumRateLimitDelay",
)
"""Worker options that describe the one BullMQ worker of a queue, not one processor."""

_URL_SCHEMES = ("redis", "rediss", "unix")
_MAX_PRIORITY = 2_097_152


@cache
def _queues_adapter() -> TypeAdapter[dict[str, QueueDefinition]]:
    return TypeAdapter(dict[str, QueueDefinition])


@cache
def _connection_adapter() -> TypeAdapter[ConnectionSpec]:
    return TypeAdapter(ConnectionSpec)


def validate_definitions(
    queues: object, connection: object, prefix: object
) -> tuple[list[Problem], dict[str, QueueDefinition]]:
    """Every problem in the arguments of ``create_queue_config``, and the validated queues."""
    problems: list[Problem] = []
    if not isinstance(prefix, str) or not prefix or any(c.isspace() for c in prefix):
        problems.append(
            Problem(f"prefix must be a non-empty string without spaces, not {prefix!r}")
        )
    problems.extend(_connection_problems(connection))
    if (
        isinstance(connection, Mapping)
        and typing.cast("Mapping[str, object]", connection).get("cluster") is True
        and isinstance(prefix, str)
        and "{" in prefix
        and re.match(r"[^{]*\{[^}]+\}", prefix) is None
    ):
        problems.append(
            Problem(
                f"the prefix {prefix!r} has a '{{' but no hash tag (such as '{{bull}}'): on a "
                "Redis Cluster its keys would spread over slots, and BullMQ's scripts touch many "
                "keys of a queue at once, which must share one"
            )
        )
    if not isinstance(queues, Mapping) or not queues:
        problems.append(Problem("queues must be a non-empty dict of queue name → queue definition"))
        return problems, {}
    raw = typing.cast("Mapping[object, object]", queues)
    problems.extend(_name_problems(raw))
    try:
        validated = _queues_adapter().validate_python(dict(raw), strict=True)
        errors: list[ErrorDetails] = []
    except ValidationError as error:
        errors = error.errors()
        problems.extend(_structure_problems(errors))
        # Keep checking the parts whose structure is right, so one typo does not hide the rest.
        validated = typing.cast("dict[str, QueueDefinition]", dict(raw))
    # An unknown key leaves the rest of its dict checkable; a wrong value does not.
    blocking = [error for error in errors if error["type"] != "extra_forbidden"]
    broken = _Broken(blocking)
    for queue_name, queue in validated.items():
        if not broken.at((queue_name,)) and not broken.at((queue_name, "workers")):
            problems.extend(_queue_problems(queue_name, queue, broken))
    if not blocking:
        problems.extend(moved_problems(validated))
        for former, workers in drained_queues(validated).items():
            problems.extend(_shared_option_problems(former, workers))
    return problems, ({} if errors else validated)


class _Broken:
    """The locations whose structure is wrong; semantic checks skip what lies under them."""

    def __init__(self, errors: list[ErrorDetails]) -> None:
        self._locs = [tuple(str(part) for part in error["loc"]) for error in errors]

    def at(self, loc: tuple[str, ...]) -> bool:
        return any(found == loc for found in self._locs)

    def under(self, loc: tuple[str, ...]) -> bool:
        return any(found[: len(loc)] == loc for found in self._locs)


def _connection_problems(connection: object) -> list[Problem]:
    try:
        _connection_adapter().validate_python(connection, strict=True)
    except ValidationError as error:
        if isinstance(connection, Mapping):
            return [
                _problem_from_error(
                    e, tuple(str(p) for p in e["loc"][1:]), ("connection",), RedisConnectionOptions
                )
                for e in error.errors()
                if e["loc"][:1] == ("RedisConnectionOptions",)
            ]
        return [
            Problem(
                "connection must be a redis:// or rediss:// URL or a dict of connection options, "
                f"not {type(connection).__name__}"
            )
        ]
    if isinstance(connection, str):
        scheme = urlsplit(connection).scheme
        if scheme not in _URL_SCHEMES:
            return [
                Problem(
                    f"connection URL must start with redis://, rediss:// or unix://, "
                    f"not {scheme + '://' if scheme else 'no scheme'}"
                )
            ]
        return []
    options = typing.cast("Mapping[str, object]", connection)  # validated: options
    return [Problem(issue, key="connection") for issue in connection_problems(options)]


def _name_problems(queues: Mapping[object, object]) -> list[Problem]:
    problems: list[Problem] = []
    seen_queues: dict[str, str] = {}
    seen_workers: dict[str, tuple[str, str]] = {}
    for queue_name, queue in queues.items():
        issue = name_problem(queue_name, "queue")
        if issue is not None:
            problems.append(Problem(issue, queue=str(queue_name)))
        snake = snake_case(str(queue_name))
        if issue is None and snake in seen_queues:
            problems.append(
                Problem(
                    f"queue names {seen_queues[snake]!r} and {queue_name!r} both become "
                    f"{snake!r} in Python: rename one",
                    queue=str(queue_name),
                )
            )
        seen_queues.setdefault(snake, str(queue_name))
        workers = (
            typing.cast("Mapping[str, object]", queue).get("workers")
            if isinstance(queue, Mapping)
            else None
        )
        if not isinstance(workers, Mapping):
            continue
        for worker_name in typing.cast("Mapping[object, object]", workers):
            issue = name_problem(worker_name, "worker")
            if issue is not None:
                problems.append(Problem(issue, queue=str(queue_name), worker=str(worker_name)))
                continue
            assert isinstance(worker_name, str)
            snake = snake_case(worker_name)
            if snake in seen_workers:
                other_queue, other_name = seen_workers[snake]
                if other_name == worker_name:
                    message = (
                        f"job name {worker_name!r} is defined in queues {other_queue!r} and "
                        f"{queue_name!r}: a job name must be unique (its producer is "
                        f"enqueue_{snake})"
                    )
                else:
                    message = (
                        f"worker names {other_name!r} (queue {other_queue!r}) and "
                        f"{worker_name!r} both become {snake!r} in Python: rename one"
                    )
                problems.append(Problem(message, queue=str(queue_name), worker=worker_name))
            seen_workers.setdefault(snake, (str(queue_name), worker_name))
    return problems


def _queue_problems(queue_name: str, queue: QueueDefinition, broken: _Broken) -> list[Problem]:
    workers = {
        name: worker
        for name, worker in queue["workers"].items()
        if not broken.under((queue_name, "workers", name))
    }
    if not queue["workers"]:
        return [Problem("a queue needs at least one worker", queue=queue_name)]
    problems: list[Problem] = []
    defaults = (
        None
        if broken.under((queue_name, "options"))
        else queue.get("options", {}).get("defaultJobOptions")
    )
    if defaults is not None:
        problems.extend(
            Problem(message, queue=queue_name, key=f"options.defaultJobOptions.{key}")
            for key, message in job_option_problems(defaults)
        )
    for worker_name, worker in workers.items():
        problems.extend(_worker_problems(queue_name, worker_name, worker))
        own = worker.get("defaultJobOptions", {})
        backoff = custom_backoff_problem({**(defaults or {}), **own}, worker)
        if backoff is not None:
            where = "defaultJobOptions" if "backoff" in own else "options.defaultJobOptions"
            problems.append(
                Problem(
                    backoff,
                    queue=queue_name,
                    worker=worker_name,
                    key=f"{where}.backoff",
                )
            )
    problems.extend(_shared_option_problems(queue_name, workers))
    problems.extend(
        Problem(message, queue=queue_name, worker=worker, key=key)
        for worker, key, message in shared_schedule_problems(workers)
    )
    return problems


def _worker_problems(queue_name: str, worker_name: str, worker: WorkerDefinition) -> list[Problem]:
    problems = [
        Problem(message, queue=queue_name, worker=worker_name, key="processor")
        for message in processor_problems(worker["processor"])
    ]
    options = worker.get("options", {})
    problems.extend(
        Problem(message, queue=queue_name, worker=worker_name, key=f"options.{key}")
        for key, message in _worker_option_problems(options)
    )
    problems.extend(
        Problem(message, queue=queue_name, worker=worker_name, key=f"defaultJobOptions.{key}")
        for key, message in job_option_problems(worker.get("defaultJobOptions", {}))
    )
    problems.extend(
        Problem(message, queue=queue_name, worker=worker_name, key=key)
        for key, message in derivation_problems(worker)
    )
    problems.extend(
        Problem(message, queue=queue_name, worker=worker_name, key=key)
        for key, message in schedule_problems(worker.get("schedules", {}), worker.get("schema"))
    )
    return problems


def processor_problems(processor: Callable[..., object]) -> list[str]:
    """Why ``processor`` cannot process jobs: it must be ``async`` and take one argument."""
    problems: list[str] = []
    call = processor if inspect.isroutine(processor) else getattr(processor, "__call__", None)  # noqa: B004
    if not (inspect.iscoroutinefunction(processor) or inspect.iscoroutinefunction(call)):
        name = getattr(processor, "__qualname__", repr(processor))
        problems.append(
            f"processor {name} is not async: define it with 'async def' "
            "(BullMQ runs it on the event loop)"
        )
    try:
        signature = inspect.signature(processor)
    except (TypeError, ValueError):
        return problems
    try:
        signature.bind(object())
    except TypeError:
        problems.append(
            f"processor must take exactly one positional argument, the job; "
            f"its signature is {signature}"
        )
    return problems


def job_option_problems(options: JobOptions) -> list[tuple[str, str]]:
    """Values of job options BullMQ would refuse or misread, as ``(key, message)``."""
    problems: list[tuple[str, str]] = []
    for key in ("delay", "attempts", "keepLogs", "stackTraceLimit", "timestamp"):
        value = options.get(key)
        if isinstance(value, int) and value < 0:
            problems.append((key, f"must be 0 or more, not {value}"))
    priority = options.get("priority")
    if priority is not None and not 0 <= priority <= _MAX_PRIORITY:
        problems.append(("priority", f"must be between 0 and {_MAX_PRIORITY:_}, not {priority}"))
    backoff = options.get("backoff")
    if isinstance(backoff, int) and backoff < 0:
        problems.append(("backoff", f"must be 0 or more, not {backoff}"))
    if isinstance(backoff, dict) and backoff.get("delay", 0) < 0:
        problems.append(("backoff.delay", f"must be 0 or more, not {backoff.get('delay')}"))
    if isinstance(backoff, dict) and not 0 <= backoff.get("jitter", 0) <= 1:
        problems.append(("backoff.jitter", f"must be between 0 and 1, not {backoff.get('jitter')}"))
    job_id = options.get("jobId")
    if job_id is not None and (job_id == "" or job_id.isdigit() or ":" in job_id):
        problems.append(
            ("jobId", f"{job_id!r} is not a valid custom id: not empty, not all digits, no ':'")
        )
    return problems


def _worker_option_problems(options: WorkerOptions) -> list[tuple[str, str]]:
    numbers: dict[str, int | None] = {
        "concurrency": options.get("concurrency"),
        "lockDuration": options.get("lockDuration"),
        "stalledInterval": options.get("stalledInterval"),
        "lockRenewTime": options.get("lockRenewTime"),
        "maxStalledCount": options.get("maxStalledCount"),
        "drainDelay": options.get("drainDelay"),
        "maxStartedAttempts": options.get("maxStartedAttempts"),
        "maximumRateLimitDelay": options.get("maximumRateLimitDelay"),
    }
    metrics = options.get("metrics")
    if metrics is not None:
        numbers["metrics.maxDataPoints"] = metrics["maxDataPoints"]
    limiter = options.get("limiter")
    if limiter is not None:
        numbers["limiter.max"] = limiter["max"]
        numbers["limiter.duration"] = limiter["duration"]
    problems: list[tuple[str, str]] = []
    for key, value in numbers.items():
        least = 0 if key == "maxStalledCount" else 1
        if value is not None and value < least:
            problems.append((key, f"must be {least} or more, not {value}"))
    return problems


def _shared_option_problems(
    queue_name: str, workers: Mapping[str, WorkerDefinition]
) -> list[Problem]:
    problems: list[Problem] = []
    for key in QUEUE_LEVEL_WORKER_OPTIONS:
        values = {
            name: worker.get("options", {}).get(key)
            for name, worker in workers.items()
            if key in worker.get("options", {})
        }
        distinct = {repr(value) for value in values.values()}
        if len(distinct) > 1:
            listed = ", ".join(f"{name}={value!r}" for name, value in sorted(values.items()))
            problems.append(
                Problem(
                    f"workers of one queue share one BullMQ worker, so they must agree on "
                    f"{key}: {listed}",
                    queue=queue_name,
                    key=f"options.{key}",
                )
            )
    return problems


# -- Pydantic errors → problems -------------------------------------------------------------

_QUEUES_ROOT: Any = dict[str, QueueDefinition]


def _structure_problems(errors: list[ErrorDetails]) -> list[Problem]:
    """One problem per wrong value; a union reports its closest member only."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for error in _collapse_unions(errors, _QUEUES_ROOT):
        loc = tuple(str(part) for part in error["loc"])
        problem = _problem_from_error(error, loc, (), _QUEUES_ROOT)
        if str(problem) not in seen:
            seen.add(str(problem))
            problems.append(problem)
    return problems


def _problem_from_error(
    error: ErrorDetails, loc: tuple[str, ...], prefix: tuple[str, ...], root: Any
) -> Problem:
    """A problem located by ``loc`` (a Pydantic error location under ``root``)."""
    path = prefix + _without_union_tags(root, loc)
    queue = worker = None
    key_parts: tuple[str, ...] = path
    if not prefix and path:
        queue, key_parts = path[0], path[1:]
        if key_parts[:1] == ("workers",) and len(key_parts) > 1:
            worker, key_parts = key_parts[1], key_parts[2:]
    message = _message(error, root, loc)
    if error["type"] == "extra_forbidden":
        key_parts = key_parts[:-1]
    return Problem(message, queue=queue, worker=worker, key=".".join(key_parts) or None)


def _message(error: ErrorDetails, root: Any, loc: tuple[str, ...]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        unknown = loc[-1]
        if _type_at(root, loc[:-1]) is WorkerOptions and unknown in INAPPLICABLE_WORKER_OPTIONS:
            return f"{unknown!r} does not apply here: {INAPPLICABLE_WORKER_OPTIONS[unknown]}"
        known = sorted(_typeddict_keys(root, loc[:-1]))
        hint = difflib.get_close_matches(unknown, known, n=1)
        suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
        listed = ", ".join(known)
        return f"unknown key {unknown!r}{suggestion}; known keys: {listed}"
    if kind == "missing":
        return f"missing required key {loc[-1]!r}"
    if kind == "is_subclass_of":
        return f"schema must be a Pydantic model class, not {error['input']!r}"
    if kind == "callable_type":
        return f"processor must be an async function, not {type(error['input']).__name__}"
    if kind == "union_mismatch":
        return f"{error['msg']}; got {error['input']!r}"
    return f"{error['msg'].lower().replace('input should', 'should')}, not {error['input']!r}"


def _collapse_unions(errors: list[ErrorDetails], root: Any) -> list[ErrorDetails]:
    """For a value that matched no member of a union, keep the errors of the member it aimed at."""
    by_union: dict[tuple[str, ...], list[ErrorDetails]] = {}
    plain: list[ErrorDetails] = []
    for error in errors:
        loc = tuple(str(part) for part in error["loc"])
        split = _union_split(root, loc)
        if split is None:
            plain.append(error)
        else:
            by_union.setdefault(loc[:split], []).append(error)
    for union_loc, group in by_union.items():
        deeper = [e for e in group if len(e["loc"]) > len(union_loc) + 1]
        if deeper:
            plain.extend(deeper)
            continue
        members = _describe_union(root, union_loc)
        plain.append(
            ErrorDetails(
                type="union_mismatch",
                loc=union_loc,
                msg=f"should be {members}",
                input=group[0]["input"],
            )
        )
    return plain


def _describe_union(root: Any, loc: tuple[str, ...]) -> str:
    hint = _type_at(root, loc)
    names: list[str] = []
    for member in get_args(hint):
        if is_typeddict(member):
            names.append("a dict with keys " + ", ".join(sorted(typing.get_type_hints(member))))
        else:
            names.append(getattr(member, "__name__", str(member)))
    return " or ".join(names) if names else "valid"


def _union_split(root: Any, loc: tuple[str, ...]) -> int | None:
    """Index in ``loc`` of the first union member tag, or ``None``."""
    current = root
    for index, part in enumerate(loc):
        if _is_union(current):
            return index
        current = _step(current, part)
        if current is None:
            return None
    return None


def _without_union_tags(root: Any, loc: tuple[str, ...]) -> tuple[str, ...]:
    kept: list[str] = []
    current = root
    for part in loc:
        if _is_union(current):
            current = _step(current, part)
            continue
        kept.append(part)
        current = _step(current, part)
        if current is None:
            return tuple(kept) + loc[len(kept) :]
    return tuple(kept)


def _is_union(hint: Any) -> bool:
    return get_origin(hint) in (Union, types.UnionType)


def _step(hint: Any, part: str) -> Any:
    """The type found one step down ``hint`` at ``part`` (a key, a dict key or a union tag)."""
    if _is_union(hint):
        for member in get_args(hint):
            if getattr(member, "__name__", None) == part:
                return member
        return None
    if is_typeddict(hint):
        return typing.get_type_hints(hint).get(part)
    if get_origin(hint) in (dict, Mapping, typing.Mapping):
        return get_args(hint)[1]
    return None


def _type_at(root: Any, loc: tuple[str, ...]) -> Any:
    current = root
    for part in loc:
        current = _step(current, part)
        if current is None:
            return None
    return current


def _typeddict_keys(root: Any, loc: tuple[str, ...]) -> set[str]:
    hint = _type_at(root, loc)
    return set(typing.get_type_hints(hint)) if is_typeddict(hint) else set()
