"""The dashboard tests' definitions: a typed mail queue whose jobs fail while a flag file exists,
and a report queue of jobs without payload."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field

from bullmq_codegen import Job, create_queue_config


class Mail(BaseModel):
    to: str = Field(description="Recipient address")
    subject: str = Field(description="Subject line")
    priority: int = 0


class MailSent(BaseModel):
    message_id: str = Field(description="The SMTP server's id of the message")


async def send_mail(job: Job[Mail]) -> MailSent:
    await job.log(f"sending to {job.payload.to}")
    await job.update_progress(50)
    flag = os.environ.get("DASH_FAIL_FLAG")
    if flag and Path(flag).exists():
        raise RuntimeError("smtp server down")
    return MailSent(message_id=f"<{job.id}@test>")


async def build_report(job: Job[None]) -> None:
    return None


queue_config = create_queue_config(
    queues={
        "mail": {
            "options": {"defaultJobOptions": {"attempts": 1}},
            "workers": {
                "sendMail": {
                    "schema": Mail,
                    "processor": send_mail,
                    "options": {"concurrency": 3, "metrics": {"maxDataPoints": 60}},
                },
            },
        },
        "reports": {
            "workers": {
                "buildReport": {
                    "processor": build_report,
                    "schedules": {"nightly": {"pattern": "0 3 * * *", "tz": "Europe/Berlin"}},
                },
            },
        },
    },
    connection={
        "host": os.environ.get("REDIS_HOST", "localhost"),
        "port": int(os.environ.get("REDIS_PORT", "6379")),
        "db": int(os.environ.get("REDIS_DB", "0")),
    },
    prefix=os.environ.get("BULLMQ_PREFIX", "bull"),
)
