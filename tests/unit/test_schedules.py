"""Schedules in the definitions: every way a schedule cannot become a BullMQ job scheduler."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field

from bullmq_codegen import Job, create_queue_config
from bullmq_codegen.definitions.schedules import cron_next
from bullmq_codegen.errors import DefinitionError


class Report(BaseModel):
    day: int = Field(ge=1, le=31, alias="dayOfMonth")


class Other(BaseModel):
    day: int


async def report(job: Job[Report]) -> None:
    return None


async def tidy(job: Job[None]) -> None:
    return None


def problems(schedules: dict[str, Any], *, schema: bool = True) -> list[str]:
    """The problems ``create_queue_config`` finds in a ``reports`` worker with ``schedules``."""
    worker: dict[str, Any] = (
        {"schema": Report, "processor": report} if schema else {"processor": tidy}
    )
    try:
        create_queue_config(
            queues={"nightly": {"workers": {"reports": {**worker, "schedules": schedules}}}},
            connection="redis://localhost:6379/0",
        )
    except DefinitionError as error:
        return [str(problem) for problem in error.problems]
    return []


OK = Report(dayOfMonth=1)
WHERE = "queue 'nightly', worker 'reports', schedules"


def test_valid_schedules_pass() -> None:
    assert (
        problems(
            {
                "every-minute": {"every": 60_000, "payload": OK, "limit": 10},
                "at-eight": {
                    "pattern": "0 0 8 * * *",
                    "tz": "Europe/Paris",
                    "payload": OK,
                    "startDate": 1,
                    "endDate": 2,
                    "jobOptions": {"attempts": 3, "priority": 2, "removeOnComplete": True},
                },
                "daily": {"pattern": "@daily", "payload": OK, "immediately": True},
            }
        )
        == []
    )
    assert problems({"tidy": {"every": 1000}}, schema=False) == []


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ({"payload": OK}, "x.every: give exactly one of every (milliseconds) or pattern (cron)"),
        (
            {"every": 5, "pattern": "* * * * *", "payload": OK},
            "x.every: give exactly one of every (milliseconds) or pattern (cron)",
        ),
        ({"every": 0, "payload": OK}, "x.every: must be 1 ms or more, not 0"),
        (
            {"pattern": "61 * * * *", "payload": OK},
            "x.pattern: '61 * * * *' is not a valid cron pattern: [61 * * * *] is not acceptable, "
            "out of range",
        ),
        (
            {"pattern": "* * * *", "payload": OK},
            "x.pattern: '* * * *' is not a valid cron pattern: has 4 fields: a cron pattern has 5, "
            "or 6 with the seconds first",
        ),
        (
            {"pattern": "@midnight", "payload": OK},
            "x.pattern: '@midnight' is not a valid cron pattern: unknown alias '@midnight' "
            "(known: @yearly, @annually, @monthly, @weekly, @daily, @hourly)",
        ),
        ({"pattern": "0 0 31 2 *", "payload": OK}, "x.pattern: '0 0 31 2 *' never matches a date"),
        (
            {"pattern": "0 8 * * *", "tz": "Mars/Olympus", "payload": OK},
            "x.tz: 'Mars/Olympus' is not a known IANA time zone (such as 'Europe/Paris')",
        ),
        (
            {"every": 1000, "tz": "UTC", "payload": OK},
            "x.tz: a time zone only applies to a cron pattern: add one or remove tz",
        ),
        ({"every": 1000, "limit": 0, "payload": OK}, "x.limit: must be 1 or more, not 0"),
        (
            {"every": 1000, "startDate": 5, "endDate": 5, "payload": OK},
            "x.endDate: must be after startDate (5 <= 5)",
        ),
        (
            {"pattern": "0 8 * * *", "immediately": True, "startDate": 5, "payload": OK},
            "x.immediately: cannot be combined with startDate (BullMQ refuses both)",
        ),
        (
            {"every": 1000, "immediately": True, "payload": OK},
            "x.immediately: has no effect with every: its first job is added at once anyway",
        ),
        (
            {"every": 1000, "payload": Other(day=1)},
            "x.payload: must be a Report (the worker's schema), not Other",
        ),
        (
            {"every": 1000},
            "x.payload: is needed: the worker's schema Report refuses {} (dayOfMonth: Field "
            "required)",
        ),
        (
            {"every": 1000, "payload": Report.model_construct(day=40)},
            "x.payload: fails the schema once sent as JSON: dayOfMonth: Input should be less "
            "than or equal to 31",
        ),
        (
            {"every": 1000, "payload": OK, "jobOptions": {"jobId": "nightly"}},
            "x.jobOptions.jobId: cannot be set on a schedule: a scheduler names its jobs itself "
            "(repeat:<id>:<millis>)",
        ),
        (
            {"every": 1000, "payload": OK, "jobOptions": {"delay": 5}},
            "x.jobOptions.delay: cannot be set on a schedule: a scheduler computes each job's "
            "delay from its every/pattern",
        ),
        (
            {"every": 1000, "payload": OK, "jobOptions": {"deduplication": {"id": "d"}}},
            "x.jobOptions.deduplication: cannot be set on a schedule: BullMQ does not deduplicate "
            "the jobs a scheduler adds",
        ),
        (
            {"every": 1000, "payload": OK, "jobOptions": {"attempts": -1}},
            "x.jobOptions.attempts: must be 0 or more, not -1",
        ),
    ],
)
def test_each_problem_names_the_queue_worker_scheduler_and_key(
    schedule: dict[str, Any], expected: str
) -> None:
    assert problems({"x": schedule}) == [f"{WHERE}.{expected}"]


def test_a_payload_on_a_worker_without_schema() -> None:
    assert problems({"x": {"every": 1000, "payload": OK}}, schema=False) == [
        f"{WHERE}.x.payload: this worker has no schema, so its jobs carry no payload: remove it"
    ]


@pytest.mark.parametrize("scheduler_id", ["", "a:b"])
def test_scheduler_ids_are_non_empty_without_colons(scheduler_id: str) -> None:
    assert problems({scheduler_id: {"every": 1000, "payload": OK}}) == [
        f"{WHERE}.{scheduler_id}: scheduler id {scheduler_id!r} must be non-empty and without "
        "':' (BullMQ keys and job ids are repeat:<id>:<millis>)"
    ]


def test_two_workers_of_a_queue_cannot_declare_one_id() -> None:
    with pytest.raises(DefinitionError) as caught:
        create_queue_config(
            queues={
                "nightly": {
                    "workers": {
                        "reports": {
                            "schema": Report,
                            "processor": report,
                            "schedules": {"x": {"every": 1000, "payload": OK}},
                        },
                        "tidy": {"processor": tidy, "schedules": {"x": {"every": 5000}}},
                    }
                }
            },
            connection="redis://localhost:6379/0",
        )
    assert [str(problem) for problem in caught.value.problems] == [
        "queue 'nightly', worker 'tidy', schedules.x: scheduler id 'x' is also declared by worker "
        "'reports': the job schedulers of a queue share one namespace"
    ]


def test_cron_patterns_are_read_as_bullmq_reads_them() -> None:
    start = int(datetime(2026, 1, 1, 7, 59, 59, tzinfo=UTC).timestamp() * 1000)
    at = lambda *parts: int(datetime(*parts, tzinfo=UTC).timestamp() * 1000)  # noqa: E731
    assert cron_next("*/1 * * * * *", start) == at(2026, 1, 1, 8, 0, 0)  # six fields: seconds first
    assert cron_next("30 0 8 * * *", start) == at(2026, 1, 1, 8, 0, 30)
    assert cron_next("0 8 * * *", start) == at(2026, 1, 1, 8, 0)
    assert cron_next("0 8 * * *", start, "Europe/Paris") == at(2026, 1, 2, 7, 0)  # 8:00 in Paris
    assert cron_next("0 0 31 2 *", start) is None


def test_generate_exits_2_naming_the_line_of_a_bad_schedule(tmp_path: Path) -> None:
    package = tmp_path / "svc"
    package.mkdir()
    (package / "__init__.py").touch()
    (package / "defs.py").write_text(
        textwrap.dedent(
            """\
            from bullmq_codegen import Job, create_queue_config


            async def tidy(job: Job[None]) -> None:
                return None


            queue_config = create_queue_config(
                queues={
                    "nightly": {
                        "workers": {
                            "tidy": {
                                "processor": tidy,
                                "schedules": {
                                    "sweep": {
                                        "pattern": "0 25 * * *",
                                    },
                                },
                            },
                        },
                    },
                },
                connection="redis://localhost:6379/0",
            )
            """
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "bullmq_codegen", "generate", "-c", "svc/defs.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert (
        "svc/defs.py:16: queue 'nightly', worker 'tidy', schedules.sweep.pattern: "
        "'0 25 * * *' is not a valid cron pattern"
    ) in done.stderr
    assert "Traceback" not in done.stderr
    assert not (package / "generated").exists()
