"""Typed results: what a caller gets back is the processor's return type, and nothing else."""

from __future__ import annotations

from app.queues.generated import (
    enqueue_after_sign_up_email,
    enqueue_after_sign_up_email_and_wait,
    enqueue_after_sign_up_email_bulk,
    enqueue_db_clean_up_and_wait,
    get_after_sign_up_email_job,
    listen_after_sign_up_email,
)
from app.queues.queue_definitions import EmailSend, EmailSent


async def callers() -> None:
    email = EmailSend(to="a@example.com", template="welcome")
    sent: EmailSent = await enqueue_after_sign_up_email_and_wait(email, timeout=5, priority=1)
    wrong: str = await enqueue_after_sign_up_email_and_wait(email)  # expect-error: result is EmailSent
    await enqueue_after_sign_up_email_and_wait(email, timout=5)  # expect-error: misspelled keyword
    job = await enqueue_after_sign_up_email(email)
    result: EmailSent = await job.result(timeout=1)
    number: int = await job.result()  # expect-error: result is EmailSent
    later = get_after_sign_up_email_job(job.id)
    again: EmailSent = await later.result()
    nothing: None = await later.result()  # expect-error: result is EmailSent
    jobs = await enqueue_after_sign_up_email_bulk([email, email])
    first: EmailSent = await jobs[0].result()
    await enqueue_db_clean_up_and_wait()
    await enqueue_db_clean_up_and_wait(email)  # expect-error: no payload
    async for done in job.progress():
        percent: float = done
        text: str = done  # expect-error: progress is a number
        print(percent, text)
    async with listen_after_sign_up_email(on_completed=on_sent, on_progress=on_progress):
        pass
    listen_after_sign_up_email(on_completed=on_count)  # expect-error: result is EmailSent
    print(sent, wrong, result, number, again, nothing, first, job.duplicate)


def on_sent(job_id: str, sent: EmailSent) -> None:
    print(job_id, sent.message_id)


async def on_progress(job_id: str, done: float) -> None:
    print(job_id, done)


def on_count(job_id: str, count: int) -> None:
    print(job_id, count)
