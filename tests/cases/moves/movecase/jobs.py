"""Step 1 of moving ``sendEmail`` from queue ``default`` to its own queue (test case).

``sendEmail`` now lives in ``emails``; ``movedFrom`` keeps its jobs still in
``default`` running until ``bullmq-codegen moved`` reports none left.
"""

from __future__ import annotations

import os

from pydantic import BaseModel

from bullmq_codegen import Job, create_queue_config


class Email(BaseModel):
    """An e-mail to send."""

    to: str


class Image(BaseModel):
    """An image to resize."""

    path: str


async def send_email(job: Job[Email]) -> str:
    """Says which queue the job came from."""
    return f"{job.queue_name}:{job.payload.to}"


async def resize_image(job: Job[Image]) -> str:
    """Returns the path."""
    return job.payload.path


queue_config = create_queue_config(
    queues={
        "emails": {
            "workers": {
                "sendEmail": {"schema": Email, "processor": send_email, "movedFrom": "default"}
            }
        },
        "default": {"workers": {"resizeImage": {"schema": Image, "processor": resize_image}}},
    },
    connection=os.environ.get("BULLMQ_TEST_REDIS_URL", "redis://localhost:6379/0"),
    prefix=os.environ.get("BULLMQ_PREFIX", "bull"),
)
