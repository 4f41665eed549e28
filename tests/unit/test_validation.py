"""create_queue_config: every problem at once, each naming queue, worker and key."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest
from pydantic import BaseModel

from bullmq_codegen import DefinitionError, Job, create_queue_config


class Payload(BaseModel):
    value: int


async def process(job: Job[Payload]) -> None:
    return None


def sync_process(job: Job[None]) -> None:
    return None


async def two_arguments(job: Job[None], token: str) -> None:
    return None


def problems(queues: Any, connection: Any = "redis://localhost", prefix: Any = "bull") -> list[str]:
    with pytest.raises(DefinitionError) as raised:
        create_queue_config(queues=queues, connection=connection, prefix=prefix)
    return [str(problem) for problem in raised.value.problems]


def test_a_valid_config_is_frozen_and_keeps_everything() -> None:
    config = create_queue_config(
        queues={
            "q": {
                "options": {"defaultJobOptions": {"attempts": 2}},
                "workers": {"w": {"schema": Payload, "processor": process}},
            }
        },
        connection={"host": "redis.internal", "port": 6380, "password": "s3cret"},
        prefix="{app}",
    )
    assert isinstance(config.queues, MappingProxyType)
    assert config.worker("q", "w")["processor"] is process
    assert config.prefix == "{app}"
    assert "s3cret" not in repr(config)
    with pytest.raises(KeyError, match="no queue 'x' in the definitions \\(known: q\\)"):
        config.queue("x")


def test_unknown_keys_are_named_with_a_suggestion() -> None:
    found = problems(
        {
            "q": {
                "workers": {"w": {"processor": process, "options": {"concurency": 2}}},
                "option": {},
            }
        }
    )
    assert found == [
        "queue 'q', worker 'w', options: unknown key 'concurency' (did you mean 'concurrency'?); "
        "known keys: concurrency, drainDelay, limiter, lockDuration, lockRenewTime, "
        "maxStalledCount, maxStartedAttempts, maximumRateLimitDelay, metrics, name, "
        "removeOnComplete, removeOnFail, skipLockRenewal, skipStalledCheck, stalledInterval",
        "queue 'q': unknown key 'option' (did you mean 'options'?); known keys: options, workers",
    ]


def test_node_worker_options_that_do_not_apply_say_why() -> None:
    found = problems(
        {
            "q": {
                "workers": {
                    "w": {
                        "processor": process,
                        "options": {"autorun": False, "useWorkerThreads": True},  # type: ignore[typeddict-unknown-key]
                    }
                }
            }
        }
    )
    assert found == [
        "queue 'q', worker 'w', options: 'autorun' does not apply here: create_workers() "
        "returns workers that are not started yet (start them with `async with "
        "create_workers()` or `await group.start()`), and `bullmq-codegen workers start "
        "--queue/--worker` chooses which ones a process runs",
        "queue 'q', worker 'w', options: 'useWorkerThreads' does not apply here: processors "
        "are async functions on the worker's event loop; run CPU-bound work with "
        "asyncio.to_thread or a process pool inside the processor, and scale out with more "
        "processes (WORKER_INSTANCES)",
    ]


def test_new_worker_options_are_checked_and_must_agree_per_queue() -> None:
    found = problems(
        {
            "q": {
                "workers": {
                    "a": {
                        "processor": process,
                        "options": {
                            "maxStartedAttempts": 0,
                            "metrics": {"maxDataPoints": 0},
                            "skipStalledCheck": True,
                        },
                    },
                    "b": {"processor": process, "options": {"skipStalledCheck": False}},
                }
            }
        }
    )
    assert found == [
        "queue 'q', worker 'a', options.maxStartedAttempts: must be 1 or more, not 0",
        "queue 'q', worker 'a', options.metrics.maxDataPoints: must be 1 or more, not 0",
        "queue 'q', options.skipStalledCheck: workers of one queue share one BullMQ worker, so "
        "they must agree on skipStalledCheck: a=True, b=False",
    ]


def test_wrong_types_name_the_key_and_the_value() -> None:
    found = problems(
        {
            "q": {
                "options": {"defaultJobOptions": {"attempts": "3", "backoff": {"type": 5}}},
                "workers": {"w": {"processor": process, "options": {"limiter": {"max": 1}}}},
            }
        }
    )
    assert (
        "queue 'q', options.defaultJobOptions.attempts: should be a valid integer, not '3'" in found
    )
    assert (
        "queue 'q', options.defaultJobOptions.backoff.type: should be a valid string, not 5"
        in found
    )
    assert (
        "queue 'q', worker 'w', options.limiter.duration: missing required key 'duration'" in found
    )


def test_a_union_reports_the_member_it_aimed_at() -> None:
    found = problems(
        {
            "q": {
                "options": {"defaultJobOptions": {"removeOnComplete": "yes"}},
                "workers": {"w": {"processor": process}},
            }
        }
    )
    assert found == [
        "queue 'q', options.defaultJobOptions.removeOnComplete: should be bool or int or a dict "
        "with keys age, count, limit; got 'yes'"
    ]


def test_processors_must_be_async_with_one_argument() -> None:
    found = problems(
        {"q": {"workers": {"a": {"processor": sync_process}, "b": {"processor": two_arguments}}}}
    )
    assert any("worker 'a', processor: processor sync_process is not async" in p for p in found)
    assert any(
        "worker 'b', processor: processor must take exactly one positional argument" in p
        for p in found
    )


def test_schema_must_be_a_model_and_processor_callable() -> None:
    found = problems({"q": {"workers": {"w": {"processor": 3, "schema": dict}}}})
    assert "queue 'q', worker 'w', processor: processor must be an async function, not int" in found
    assert (
        "queue 'q', worker 'w', schema: schema must be a Pydantic model class, not <class 'dict'>"
        in found
    )


def test_names_that_collide_in_python_are_refused() -> None:
    found = problems(
        {
            "emailSend": {"workers": {"sendWelcome": {"processor": process}}},
            "email_send": {"workers": {"send_welcome": {"processor": process}}},
            "other": {"workers": {"sendWelcome": {"processor": process}}},
        }
    )
    assert (
        "queue 'email_send': queue names 'emailSend' and 'email_send' both become 'email_send' in Python: rename one"
        in found
    )
    assert any(
        "worker names 'sendWelcome' (queue 'emailSend') and 'send_welcome' both become" in p
        for p in found
    )
    assert any(
        "job name 'sendWelcome' is defined in queues 'emailSend' and 'other'" in p for p in found
    )


def test_keywords_and_invalid_names_are_refused() -> None:
    found = problems({"import": {"workers": {"a:b": {"processor": process}}}})
    assert found[0].startswith("queue 'import': queue name 'import' is the Python keyword")
    assert found[1].startswith("queue 'import', worker 'a:b': worker name 'a:b' is not valid")


def test_queue_level_options_must_agree_across_workers() -> None:
    found = problems(
        {
            "q": {
                "workers": {
                    "a": {
                        "processor": process,
                        "options": {"limiter": {"max": 1, "duration": 1000}, "concurrency": 2},
                    },
                    "b": {
                        "processor": process,
                        "options": {"limiter": {"max": 2, "duration": 1000}, "concurrency": 5},
                    },
                }
            }
        }
    )
    assert found == [
        "queue 'q', options.limiter: workers of one queue share one BullMQ worker, so they must "
        "agree on limiter: a={'max': 1, 'duration': 1000}, b={'max': 2, 'duration': 1000}"
    ]


def test_values_out_of_range() -> None:
    found = problems(
        {
            "q": {
                "options": {
                    "defaultJobOptions": {"priority": 3_000_000, "delay": -1, "jobId": "42"}
                },
                "workers": {
                    "w": {
                        "processor": process,
                        "options": {"concurrency": 0, "limiter": {"max": 0, "duration": 10}},
                    }
                },
            }
        }
    )
    assert "queue 'q', options.defaultJobOptions.delay: must be 0 or more, not -1" in found
    assert (
        "queue 'q', options.defaultJobOptions.priority: must be between 0 and 2_097_152, not 3000000"
        in found
    )
    assert (
        "queue 'q', options.defaultJobOptions.jobId: '42' is not a valid custom id: not empty, not all digits, no ':'"
        in found
    )
    assert "queue 'q', worker 'w', options.concurrency: must be 1 or more, not 0" in found
    assert "queue 'q', worker 'w', options.limiter.max: must be 1 or more, not 0" in found


def test_connection_and_prefix_problems() -> None:
    found = problems(
        {"q": {"workers": {"w": {"processor": process}}}},
        connection={"hots": "x", "port": "6379"},
        prefix="",
    )
    assert found[0] == "prefix must be a non-empty string without spaces, not ''"
    assert "connection.port: should be a valid integer, not '6379'" in found
    assert any(p.startswith("connection: unknown key 'hots' (did you mean 'host'?)") for p in found)
    assert problems({"q": {"workers": {"w": {"processor": process}}}}, connection="http://x") == [
        "connection URL must start with redis://, rediss:// or unix://, not http://"
    ]


def test_empty_definitions_are_refused() -> None:
    assert problems({}) == ["queues must be a non-empty dict of queue name → queue definition"]
    assert problems({"q": {"workers": {}}}) == ["queue 'q': a queue needs at least one worker"]
    assert problems({"q": {}}) == ["queue 'q', workers: missing required key 'workers'"]


def test_a_queue_whose_options_are_not_a_dict() -> None:
    found = problems({"q": {"options": None, "workers": {"w": {"processor": process}}}})
    assert found == ["queue 'q', options: should be a valid dictionary, not None"]


def test_lock_renewal_and_drain_delay_cannot_be_zero() -> None:
    found = problems(
        {
            "q": {
                "workers": {
                    "w": {"processor": process, "options": {"lockRenewTime": 0, "drainDelay": 0}}
                }
            }
        }
    )
    assert found == [
        "queue 'q', worker 'w', options.lockRenewTime: must be 1 or more, not 0",
        "queue 'q', worker 'w', options.drainDelay: must be 1 or more, not 0",
    ]


def test_moved_from_must_name_another_queue_and_drained_queues_must_agree() -> None:
    found = problems(
        {
            "q": {"workers": {"a": {"processor": process, "movedFrom": "q"}}},
            "r": {
                "workers": {
                    "b": {"processor": process, "movedFrom": "old:queue"},
                    "c": {
                        "processor": process,
                        "movedFrom": "gone",
                        "options": {"lockDuration": 1_000},
                    },
                }
            },
            "s": {
                "workers": {
                    "d": {
                        "processor": process,
                        "movedFrom": "gone",
                        "options": {"lockDuration": 2_000},
                    }
                }
            },
        }
    )
    assert found == [
        "queue 'q', worker 'a', movedFrom: names the worker's own queue 'q': movedFrom is the "
        "queue this job name was in before",
        "queue 'r', worker 'b', movedFrom: 'old:queue' is not a BullMQ queue name (not empty, "
        "no ':', no surrounding spaces)",
        "queue 'gone', options.lockDuration: workers of one queue share one BullMQ worker, so "
        "they must agree on lockDuration: c=1000, d=2000",
    ]


def test_an_unknown_key_does_not_hide_the_other_problems_of_its_worker() -> None:
    found = problems(
        {
            "q": {
                "workers": {
                    "w": {
                        "processor": process,
                        "options": {  # type: ignore[typeddict-unknown-key]
                            "autorun": False,
                            "maxStartedAttempts": 0,
                            "skipStalledCheck": False,
                        },
                    },
                    "v": {"processor": process, "options": {"skipStalledCheck": True}},
                }
            }
        }
    )
    assert [problem.split(": ", 1)[0] for problem in found] == [
        "queue 'q', worker 'w', options",
        "queue 'q', worker 'w', options.maxStartedAttempts",
        "queue 'q', options.skipStalledCheck",
    ]
