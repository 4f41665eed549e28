"""One queue on a TLS-enabled Redis, as an ACL user limited to the queue's keys (test case)."""

from __future__ import annotations

import os

from pydantic import BaseModel

from bullmq_codegen import Job, create_queue_config


class Text(BaseModel):
    """Some text."""

    text: str


async def shout(job: Job[Text]) -> str:
    """Returns the text in capitals."""
    return job.payload.text.upper()


queue_config = create_queue_config(
    queues={"tasks": {"workers": {"shout": {"schema": Text, "processor": shout}}}},
    connection={
        "host": "127.0.0.1",
        "port": int(os.environ["TLS_REDIS_PORT"]),
        "ssl": True,
        "ssl_ca_certs": os.environ["TLS_CA_CERTS"],
        "username": os.environ["REDIS_USERNAME"],
        "password": os.environ["REDIS_PASSWORD"],
    },
    prefix=os.environ.get("BULLMQ_PREFIX", "bull"),
)
