"""Definitions a type checker must refuse (marked ``# expect-error``) and ones it must accept."""

from __future__ import annotations

from pydantic import BaseModel

from bullmq_codegen import Job, create_queue_config


class Ping(BaseModel):
    host: str


async def ping(job: Job[Ping]) -> None:
    return None


def not_async(job: Job[Ping]) -> None:
    return None


wrong = [
    create_queue_config(
        queues={"q": {"workers": {"w": {"processor": ping, "options": {"concurency": 2}}}}},  # expect-error: misspelled option
        connection="redis://localhost",
    ),
    create_queue_config(
        queues={"q": {"workers": {"w": {"processor": ping, "options": {"concurrency": "2"}}}}},  # expect-error: wrong option type
        connection="redis://localhost",
    ),
    create_queue_config(
        queues={"q": {"options": {"defaultJobOptions": {"backoff": {"type": 5}}}, "workers": {"w": {"processor": ping}}}},  # expect-error: backoff type not a string
        connection="redis://localhost",
    ),
    create_queue_config(
        queues={"q": {"workers": {"w": {"processor": not_async}}}},  # expect-error: processor not async
        connection="redis://localhost",
    ),
    create_queue_config(
        queues={"q": {"workers": {"w": {"processor": ping, "schema": dict}}}},  # expect-error: schema not a model
        connection="redis://localhost",
    ),
    create_queue_config(
        queues={"q": {"workers": {"w": {"processor": ping}}}},
        connection={"hots": "redis.internal"},  # expect-error: misspelled connection key
    ),
]

right = create_queue_config(
    queues={
        "q": {
            "options": {"defaultJobOptions": {"attempts": 3, "backoff": {"type": "exponential", "delay": 1000}, "removeOnComplete": {"age": 3600}}},
            "workers": {"w": {"schema": Ping, "processor": ping, "options": {"concurrency": 5, "limiter": {"max": 10, "duration": 1000}}}},
        }
    },
    connection={"host": "localhost", "port": 6379, "password": None, "db": 0},
    prefix="{app}",
)
