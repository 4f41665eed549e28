"""Calls a type checker must refuse (marked ``# expect-error``) and calls it must accept."""

from __future__ import annotations

import app.queues.generated as generated
from app.queues.generated import (
    create_workers,
    enqueue_after_sign_up_email,
    enqueue_db_clean_up,
)
from app.queues.queue_definitions import EmailSend


async def misuse() -> None:
    await enqueue_after_sign_up_email(EmailSend(to=1, template="welcome"))  # expect-error: wrong field type
    await enqueue_after_sign_up_email(EmailSend(to="a@b.co"))  # expect-error: missing field
    await enqueue_after_sign_up_email(EmailSend(to="a@b.co", template="w", cc="x"))  # expect-error: unknown field
    await enqueue_db_clean_up(EmailSend(to="a@b.co", template="w"))  # expect-error: payload to a no-schema producer
    await generated.enqueue_after_sign_up_mail(EmailSend(to="a@b.co", template="w"))  # expect-error: misspelled producer
    await enqueue_after_sign_up_email(EmailSend(to="a@b.co", template="w"), dealy=5000)  # expect-error: unknown job option
    await enqueue_after_sign_up_email(EmailSend(to="a@b.co", template="w"), delay="5s")  # expect-error: wrong job option type
    await enqueue_after_sign_up_email({"to": "a@b.co", "template": "w"})  # expect-error: a dict, not the model
    create_workers(queues=["emailSnd"])  # expect-error: misspelled queue


async def correct() -> None:
    job = await enqueue_after_sign_up_email(
        EmailSend(to="a@b.co", template="welcome"), delay=5000, priority=1, jobId="welcome-1"
    )
    payload: EmailSend = job.payload
    print(payload.to, job.id)
    await enqueue_db_clean_up(delay=1000, removeOnComplete={"count": 10})
    create_workers(queues=["emailSend"], workers=["dbCleanUp"])
