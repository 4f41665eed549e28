"""The options of one job: checked, and merged from the queue, the job name and the payload.

Merge order, each over the one before: the queue's ``defaultJobOptions``, the
job name's ``defaultJobOptions``, what the worker derives from the payload
(``jobId`` and ``deduplication`` functions), the call's options.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, cast

from pydantic import BaseModel, TypeAdapter, ValidationError

from ..definitions.config import QueueConfig
from ..definitions.options import DeduplicationOptions, JobOptions
from ..definitions.shapes import WorkerDefinition
from ..definitions.validation import job_option_problems
from ..errors import BullMQCodegenError

__all__ = ["InvalidJobOptionsError", "check_job_options", "derived_options", "name_defaults"]


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


def name_defaults(config: QueueConfig, queue: str, name: str) -> JobOptions:
    """The default options of job ``name``: the queue's, then the job name's own over them."""
    queue_defaults = config.queue(queue).get("options", {}).get("defaultJobOptions", {})
    own = config.worker(queue, name).get("defaultJobOptions", {})
    return cast("JobOptions", {**queue_defaults, **own})


def derived_options(worker: WorkerDefinition) -> Callable[[BaseModel | None], JobOptions] | None:
    """What the worker derives from a payload (``jobId``, ``deduplication``), if anything."""
    make_id = worker.get("jobId")
    rule = worker.get("deduplication")
    if make_id is None and rule is None:
        return None
    settings: dict[str, Any] = {key: value for key, value in (rule or {}).items() if key != "id"}

    def derive(payload: BaseModel | None) -> JobOptions:
        derived: dict[str, Any] = {}
        if make_id is not None:
            job_id = _text(make_id(payload), "jobId")
            for _key, problem in job_option_problems({"jobId": job_id}):
                # an all-digit id would be one BullMQ's counter hands out: another job's
                raise InvalidJobOptionsError(f"the worker's jobId function returned {problem}")
            derived["jobId"] = job_id
        if rule is not None:
            deduplication: DeduplicationOptions = {
                "id": _text(rule["id"](payload), "deduplication id"),
                **settings,  # type: ignore[typeddict-item]
            }
            derived["deduplication"] = deduplication
        return cast("JobOptions", derived)

    return derive


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidJobOptionsError(
            f"the worker's {what} function returned {value!r}, not a non-empty string"
        )
    return value
