"""Queue definitions of the example app: the original design's reference example, in Python.

Two queues, one worker each. ``emailSend`` validates its payload with
``EmailSend``; ``dbOperations`` takes no payload and delays every job by 5 s.
Run ``bullmq-codegen generate`` to (re)write ``generated/`` beside this file.
"""

from __future__ import annotations

import logging
import os
from typing import Annotated

from pydantic import BaseModel, StringConstraints

from bullmq_codegen import Job, create_queue_config

log = logging.getLogger(__name__)

EmailAddress = Annotated[
    str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
]
"""An e-mail address, checked by a pattern (pydantic's EmailStr costs ~23 µs a job)."""


class EmailSend(BaseModel):
    """Payload of the ``afterSignUpEmail`` job."""

    to: EmailAddress
    template: str


async def send_email(job: Job[EmailSend]) -> None:
    """Send the sign-up e-mail (the example only logs it)."""
    log.info("Sending email: %s", job.payload.model_dump())


async def clean_db(job: Job[None]) -> None:
    """Clean the database (the example only logs it)."""
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
                    "options": {
                        "concurrency": 5,
                        "limiter": {"max": 100, "duration": 60000},
                    },
                },
            },
        },
        "dbOperations": {
            "options": {
                "defaultJobOptions": {
                    "removeOnComplete": 10,
                    "removeOnFail": 10,
                    "delay": 5000,
                },
            },
            "workers": {
                "dbCleanUp": {
                    # No schema: a job without payload.
                    "processor": clean_db,
                    "options": {
                        "concurrency": 1,
                        "limiter": {"max": 1, "duration": 30000},
                    },
                },
            },
        },
    },
    connection={
        "host": os.environ.get("REDIS_HOST", "localhost"),
        # The original design defaults REDIS_PORT to 4379; Redis's own default is 6379.
        "port": int(os.environ.get("REDIS_PORT", "6379")),
        "password": os.environ.get("REDIS_PASSWORD"),
        "db": int(os.environ.get("REDIS_DB", "0")),
    },
    # BullMQ's default key prefix; tests set their own so they never touch real queues.
    prefix=os.environ.get("BULLMQ_PREFIX", "bull"),
)
