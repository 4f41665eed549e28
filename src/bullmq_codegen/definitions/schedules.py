"""Checks of a worker's ``schedules``: what BullMQ's job schedulers would refuse or misread.

A schedule becomes a BullMQ job scheduler when workers start, so everything
that would make it fail there (or fire never, or fire with a payload the worker
then refuses) is a definition error here: one of ``every``/``pattern``, a cron
pattern read as BullMQ's cron-parser reads it (six fields: seconds first), a
known IANA time zone, a payload of the worker's schema, job options a
scheduler can honour.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ValidationError

from ..payloads import wire_payload
from .options import ScheduleOptions
from .shapes import WorkerDefinition

__all__ = [
    "CRON_ALIASES",
    "SCHEDULER_JOB_OPTIONS",
    "cron_next",
    "schedule_payload_json",
    "schedule_problems",
    "shared_schedule_problems",
]

CRON_ALIASES = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@hourly")
"""The ``@`` patterns both BullMQ's cron-parser and croniter read the same way."""

SCHEDULER_JOB_OPTIONS: Mapping[str, str] = {
    "jobId": "a scheduler names its jobs itself (repeat:<id>:<millis>)",
    "delay": "a scheduler computes each job's delay from its every/pattern",
    "timestamp": "a scheduler stamps each job with the time it adds it",
    "deduplication": "BullMQ does not deduplicate the jobs a scheduler adds",
}
"""Job options a BullMQ job scheduler cannot honour, and why."""


def cron_next(pattern: str, after_ms: int, tz: str | None = None) -> int | None:
    """The first time (ms since the epoch) after ``after_ms`` that ``pattern`` matches in ``tz``.

    Six fields have the seconds first, as in BullMQ's cron-parser. ``None``
    when the pattern never matches again; ``ValueError`` when it is not a
    pattern both cron-parser and this reader accept.
    """
    # croniter (and dateutil, pytz with it) loads on the first schedule, not with every
    # definitions module: an API process that only enqueues has no use for it.
    from croniter import CroniterBadDateError, croniter

    text = pattern.strip()
    fields = text.split()
    if text.startswith("@"):
        if text not in CRON_ALIASES:
            raise ValueError(f"unknown alias {text!r} (known: {', '.join(CRON_ALIASES)})")
    elif len(fields) not in (5, 6):
        raise ValueError(
            f"has {len(fields)} fields: a cron pattern has 5, or 6 with the seconds first"
        )
    zone = ZoneInfo(tz) if tz else UTC
    start = datetime.fromtimestamp(after_ms / 1000, tz=zone)
    try:
        found = croniter(text, start, second_at_beginning=True).get_next(datetime)
    except CroniterBadDateError:
        return None
    except (ValueError, KeyError, TypeError) as error:  # croniter's errors are ValueErrors, mostly
        raise ValueError(str(error)) from None
    return int(found.timestamp() * 1000)


def schedule_payload_json(schedule: ScheduleOptions[Any], schema: type[BaseModel] | None) -> str:
    """The JSON data of every job ``schedule`` adds (``{}`` without payload), as producers send it.

    Raises ``TypeError`` or ``ValidationError`` when the payload cannot be sent.
    """
    if "payload" not in schedule:
        if schema is not None:
            schema.model_validate_json("{}")
        return "{}"
    payload: object = schedule["payload"]
    if schema is None:
        raise TypeError("this worker has no schema, so its jobs carry no payload: remove it")
    if not isinstance(payload, schema):
        raise TypeError(
            f"must be a {schema.__name__} (the worker's schema), not {type(payload).__name__}"
        )
    return wire_payload(schema, payload, "the schedule")[1]


def schedule_problems(
    schedules: Mapping[str, ScheduleOptions[Any]], schema: type[BaseModel] | None
) -> list[tuple[str, str]]:
    """Every problem of a worker's ``schedules``, as ``(key path, message)``.

    Key paths start at the worker: ``schedules.<id>.<key>``.
    """
    from .validation import job_option_problems  # validation imports this module

    problems: list[tuple[str, str]] = []
    for scheduler_id, schedule in schedules.items():
        at = f"schedules.{scheduler_id}"
        if not scheduler_id or ":" in scheduler_id:
            problems.append(
                (
                    at,
                    f"scheduler id {scheduler_id!r} must be non-empty and without ':' "
                    "(BullMQ keys and job ids are repeat:<id>:<millis>)",
                )
            )
        problems.extend((f"{at}.{key}", message) for key, message in _timing_problems(schedule))
        problems.extend(
            (f"{at}.{key}", message) for key, message in _payload_problems(schedule, schema)
        )
        options = schedule.get("jobOptions", {})
        for key, reason in SCHEDULER_JOB_OPTIONS.items():
            if key in options:
                problems.append(
                    (f"{at}.jobOptions.{key}", f"cannot be set on a schedule: {reason}")
                )
        problems.extend(
            (f"{at}.jobOptions.{key}", message) for key, message in job_option_problems(options)
        )
    return problems


def shared_schedule_problems(workers: Mapping[str, WorkerDefinition]) -> list[tuple[str, str, str]]:
    """Scheduler ids declared by two workers of one queue, as ``(worker, key, message)``.

    BullMQ keeps one set of job schedulers per queue, so an id names one scheduler.
    """
    owners: dict[str, str] = {}
    problems: list[tuple[str, str, str]] = []
    for worker_name, worker in workers.items():
        for scheduler_id in worker.get("schedules", {}):
            first = owners.setdefault(scheduler_id, worker_name)
            if first != worker_name:
                problems.append(
                    (
                        worker_name,
                        f"schedules.{scheduler_id}",
                        f"scheduler id {scheduler_id!r} is also declared by worker {first!r}: "
                        "the job schedulers of a queue share one namespace",
                    )
                )
    return problems


def _timing_problems(schedule: ScheduleOptions[Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    every = schedule.get("every")
    pattern = schedule.get("pattern")
    tz = schedule.get("tz")
    if (every is None) == (pattern is None):
        problems.append(("every", "give exactly one of every (milliseconds) or pattern (cron)"))
    if every is not None and every < 1:
        problems.append(("every", f"must be 1 ms or more, not {every}"))
    zone_ok = True
    if tz is not None:
        if pattern is None:
            problems.append(
                ("tz", "a time zone only applies to a cron pattern: add one or remove tz")
            )
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            zone_ok = False
            problems.append(
                ("tz", f"{tz!r} is not a known IANA time zone (such as 'Europe/Paris')")
            )
    if pattern is not None:
        problems.extend(
            ("pattern", message) for message in _pattern_problems(pattern, tz if zone_ok else None)
        )
    for key in ("limit",):
        value = schedule.get(key)
        if value is not None and value < 1:
            problems.append((key, f"must be 1 or more, not {value}"))
    start, end = schedule.get("startDate"), schedule.get("endDate")
    for key, value in (("startDate", start), ("endDate", end)):
        if value is not None and value < 0:
            problems.append((key, f"must be milliseconds since the epoch, not {value}"))
    if start is not None and end is not None and end <= start:
        problems.append(("endDate", f"must be after startDate ({end} <= {start})"))
    if schedule.get("immediately"):
        if start is not None:
            problems.append(
                ("immediately", "cannot be combined with startDate (BullMQ refuses both)")
            )
        if every is not None:
            problems.append(
                ("immediately", "has no effect with every: its first job is added at once anyway")
            )
    return problems


def _pattern_problems(pattern: str, tz: str | None) -> list[str]:
    now = int(datetime.now(UTC).timestamp() * 1000)
    try:
        found = cron_next(pattern, now, tz)
    except ValueError as error:
        return [f"{pattern!r} is not a valid cron pattern: {error}"]
    if found is None:
        return [f"{pattern!r} never matches a date"]
    return []


def _payload_problems(
    schedule: ScheduleOptions[Any], schema: type[BaseModel] | None
) -> list[tuple[str, str]]:
    try:
        schedule_payload_json(schedule, schema)
    except TypeError as error:
        return [("payload", str(error))]
    except ValidationError as error:
        details = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or '(payload)'}: {item['msg']}"
            for item in error.errors()
        )
        if "payload" not in schedule:
            name = schema.__name__ if schema is not None else "-"
            return [("payload", f"is needed: the worker's schema {name} refuses {{}} ({details})")]
        return [("payload", f"fails the schema once sent as JSON: {details}")]
    return []
