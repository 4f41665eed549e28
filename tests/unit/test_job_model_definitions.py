"""create_queue_config on the job-model keys: per-name defaults, derived ids, custom backoff."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from bullmq_codegen import DefinitionError, Job, create_queue_config, define_worker


class Payload(BaseModel):
    value: int


class Other(BaseModel):
    name: str


async def process(job: Job[Payload]) -> None:
    return None


def value_key(payload: Payload) -> str:
    return str(payload.value)


def other_key(other: Other) -> str:
    return other.name


async def async_key(payload: Payload) -> str:
    return str(payload.value)


def linear(attempts_made: int, kind: str, error: BaseException, job: Job[Any]) -> int:
    return 1000 * attempts_made


def problems(queues: Any) -> list[str]:
    with pytest.raises(DefinitionError) as raised:
        create_queue_config(queues=queues, connection="redis://localhost")
    return [str(problem) for problem in raised.value.problems]


def test_the_job_model_keys_are_kept() -> None:
    worker = define_worker(
        schema=Payload,
        processor=process,
        defaultJobOptions={"priority": 3, "lifo": True},
        deduplication={"id": value_key, "ttl": 1000},
        backoffStrategy=linear,
    )
    config = create_queue_config(
        queues={
            "q": {
                "options": {"defaultJobOptions": {"backoff": {"type": "linear", "delay": 10}}},
                "workers": {"w": worker},
            }
        },
        connection="redis://localhost",
    )
    kept = config.worker("q", "w")
    assert kept.get("defaultJobOptions") == {"priority": 3, "lifo": True}
    assert kept.get("deduplication") == {"id": value_key, "ttl": 1000}
    assert kept.get("backoffStrategy") is linear


def test_per_name_default_options_are_checked_like_the_queues() -> None:
    found = problems(
        {
            "q": {
                "workers": {
                    "w": {
                        "processor": process,
                        "defaultJobOptions": {"delay": -5, "priority": 3_000_000, "jobId": "7"},
                    }
                }
            }
        }
    )
    assert found == [
        "queue 'q', worker 'w', defaultJobOptions.delay: must be 0 or more, not -5",
        "queue 'q', worker 'w', defaultJobOptions.priority: must be between 0 and 2_097_152, "
        "not 3000000",
        "queue 'q', worker 'w', defaultJobOptions.jobId: '7' is not a valid custom id: not "
        "empty, not all digits, no ':'",
    ]
    assert problems(
        {"q": {"workers": {"w": {"processor": process, "defaultJobOptions": {"lifo": 1}}}}}
    ) == ["queue 'q', worker 'w', defaultJobOptions.lifo: should be a valid boolean, not 1"]


def test_derived_id_functions_must_take_the_payload() -> None:
    found = problems(
        {
            "q": {
                "workers": {
                    "w": {
                        "schema": Payload,
                        "processor": process,
                        "jobId": other_key,
                        "deduplication": {"id": async_key, "ttl": 0},
                    }
                }
            }
        }
    )
    assert found == [
        "queue 'q', worker 'w', jobId: a worker derives a jobId or a deduplication id, not both: "
        "BullMQ deduplicates by either, and the two would disagree",
        "queue 'q', worker 'w', deduplication.ttl: must be 1 or more, not 0",
        "queue 'q', worker 'w', jobId: takes a Other, but this worker's payload is Payload",
        "queue 'q', worker 'w', deduplication.id: must be a plain function (not async): it runs "
        "before the job is added",
    ]
    assert problems(
        {"q": {"workers": {"w": {"processor": process, "jobId": lambda a, b: "x"}}}}
    ) == [
        "queue 'q', worker 'w', jobId: must be a function of one argument, the payload; its "
        "signature is (a, b)"
    ]


def test_a_custom_backoff_type_needs_a_strategy() -> None:
    found = problems(
        {
            "q": {
                "options": {"defaultJobOptions": {"backoff": {"type": "jitter", "delay": 5}}},
                "workers": {
                    "plain": {"processor": process},
                    "own": {
                        "processor": process,
                        "defaultJobOptions": {"backoff": {"type": "fib"}},
                    },
                    "strategic": {"processor": process, "backoffStrategy": linear},
                },
            }
        }
    )
    assert found == [
        "queue 'q', worker 'plain', options.defaultJobOptions.backoff: backoff type 'jitter' is "
        "not one BullMQ computes (fixed, exponential): declare the worker's backoffStrategy to "
        "compute its delays",
        "queue 'q', worker 'own', defaultJobOptions.backoff: backoff type 'fib' is not one "
        "BullMQ computes (fixed, exponential): declare the worker's backoffStrategy to compute "
        "its delays",
    ]
    assert problems(
        {"q": {"workers": {"w": {"processor": process, "backoffStrategy": value_key}}}}
    ) == [
        "queue 'q', worker 'w', backoffStrategy: must be backoffStrategy(attempts_made, type, "
        "error, job); its signature is (payload: 'Payload') -> 'str'"
    ]
