"""Queue definitions of the example app: the original design's reference example, in Python.

Two queues, one worker each. ``emailSend`` validates its payload with
``EmailSend`` and returns an ``EmailSent`` result; ``dbCleanUp`` takes no
payload, runs every night on a job scheduler, and its jobs wait 5 s (a default
job option of that job name alone). Run ``bullmq-codegen generate`` to
(re)write ``generated/`` beside this file.
"""

from __future__ import annotations

import logging
import os
from typing import Annotated

from pydantic import BaseModel, StringConstraints

from bullmq_codegen import Job, create_queue_config

log = logging.getLogger(__name__)

# a pattern, not pydantic's EmailStr, which costs ~23 µs a job
EmailAddress = Annotated[
    str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
]


class EmailSend(BaseModel):
    to: EmailAddress
    template: str


class EmailSent(BaseModel):
    to: EmailAddress
    message_id: str


async def send_email(job: Job[EmailSend]) -> EmailSent:  # the return type is the job's result
    log.info("Sending email: %s", job.payload.model_dump())
    return EmailSent(to=job.payload.to, message_id=f"<{job.id}@example.com>")


async def clean_db(job: Job[None]) -> None:
    log.info("Cleaning DB (job %s)", job.id)


queue_config = create_queue_config(
    queues={
        "emailSend": {
            "options": {
                "defaultJobOptions": {
                    "removeOnComplete": 100,
                    "removeOnFail": 50,
                    "attempts": 3,
                    "backoff": {"type": "exponential", "delay": 2000},
                },
            },
            "workers": {
                "afterSignUpEmail": {
                    "schema": EmailSend,
                    "processor": send_email,
                    "options": {"concurrency": 5, "limiter": {"max": 100, "duration": 60000}},
                },
            },
        },
        "dbOperations": {
            "options": {"defaultJobOptions": {"removeOnComplete": 10, "removeOnFail": 10}},
            "workers": {
                "dbCleanUp": {
                    "processor": clean_db,  # no schema: a job without payload
                    "options": {"concurrency": 1, "limiter": {"max": 1, "duration": 30000}},
                    "defaultJobOptions": {"delay": 5000},  # this job name's own defaults
                    # a BullMQ job scheduler, upserted when the workers start
                    "schedules": {"nightly": {"pattern": "0 3 * * *", "tz": "Europe/Berlin"}},
                },
            },
        },
    },
    connection={
        "host": os.environ.get("REDIS_HOST", "localhost"),
        "port": int(os.environ.get("REDIS_PORT", "6379")),  # the original defaults to 4379
        "password": os.environ.get("REDIS_PASSWORD"),
        "db": int(os.environ.get("REDIS_DB", "0")),
    },
    prefix=os.environ.get("BULLMQ_PREFIX", "bull"),  # BullMQ's default; tests set their own
)
