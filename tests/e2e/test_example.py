"""The bundled example end to end: generated producers and workers against a real Redis."""

from __future__ import annotations

import asyncio
import time
from types import ModuleType

import pytest
from pydantic import ValidationError

from bullmq_codegen.runtime import BulkValidationError, InvalidJobOptionsError

from ..helpers import eventually


async def test_enqueued_jobs_run_with_their_processor(example: ModuleType) -> None:
    from app.queues.queue_definitions import EmailSend

    async with example.create_workers(queues=["emailSend"]):
        jobs = [
            await example.enqueue_after_sign_up_email(
                EmailSend(to=f"u{i}@example.com", template="w")
            )
            for i in range(20)
        ]
        results = [await job.result(timeout=10) for job in jobs]
    assert [(result.to, result.message_id) for result in results] == [
        (f"u{i}@example.com", f"<{job.id}@example.com>") for i, job in enumerate(jobs)
    ]
    counts = await example.email_send_queue.counts()
    assert (counts.completed, counts.failed, counts.pending) == (20, 0, 0)
    stored = await example.email_send_queue.get_job(jobs[0].id)
    assert stored is not None
    assert stored.name == "afterSignUpEmail"
    assert stored.data == {"to": "u0@example.com", "template": "w"}
    assert stored.opts.get("attempts") == 3  # the queue's defaultJobOptions travel with the job


async def test_job_names_stay_as_defined_in_redis(example: ModuleType, prefix: str) -> None:
    from app.queues.queue_definitions import EmailSend

    job = await example.enqueue_after_sign_up_email(EmailSend(to="a@b.co", template="t"))
    client = example.email_send_queue.context().client
    assert await client.hget(f"{prefix}:emailSend:{job.id}", "name") == "afterSignUpEmail"
    assert await client.lrange(f"{prefix}:emailSend:wait", 0, -1) == [job.id]


async def test_invalid_payload_is_refused_before_redis(example: ModuleType) -> None:
    from app.queues.queue_definitions import EmailSend

    with pytest.raises(ValidationError):
        await example.enqueue_after_sign_up_email(EmailSend(to="not an address", template="w"))
    with pytest.raises(ValidationError):  # built without validation: caught on the way out
        await example.enqueue_after_sign_up_email(EmailSend.model_construct(to="x", template="w"))
    with pytest.raises(BulkValidationError, match=r"\[1\] to:"):
        await example.enqueue_after_sign_up_email_bulk(
            [EmailSend(to="a@b.co", template="w"), EmailSend.model_construct(to=3, template="w")]
        )
    counts = await example.email_send_queue.counts()
    assert counts.waiting == 0  # the valid first item of the bulk was not added either


async def test_invalid_job_options_are_refused_before_redis(example: ModuleType) -> None:
    from app.queues.queue_definitions import EmailSend

    with pytest.raises(InvalidJobOptionsError, match="dealy"):
        await example.enqueue_after_sign_up_email(EmailSend(to="a@b.co", template="w"), dealy=5)
    with pytest.raises(InvalidJobOptionsError, match="priority"):
        await example.enqueue_after_sign_up_email(EmailSend(to="a@b.co", template="w"), priority=-1)
    assert (await example.email_send_queue.counts()).waiting == 0


async def test_per_call_options_override_queue_defaults(example: ModuleType) -> None:
    from app.queues.queue_definitions import EmailSend

    job = await example.enqueue_after_sign_up_email(
        EmailSend(to="a@b.co", template="w"), jobId="welcome-a@b.co", attempts=1, priority=5
    )
    again = await example.enqueue_after_sign_up_email(
        EmailSend(to="a@b.co", template="w"), jobId="welcome-a@b.co"
    )
    assert job.id == again.id == "welcome-a@b.co"
    assert await job.state() == "prioritized"
    stored = await job.snapshot()
    assert stored is not None
    assert stored.opts.get("attempts") == 1
    assert stored.opts.get("removeOnComplete") == 100


async def test_the_delayed_job_runs_after_its_delay(example: ModuleType) -> None:
    """``dbOperations`` delays every job by 5000 ms (redis-py 8's 5 s read timeout must not hang it)."""
    async with example.create_workers(queues=["dbOperations"]):
        started = time.monotonic()
        job = await example.enqueue_db_clean_up()
        assert await job.state() == "delayed"
        await job.wait_until_finished(timeout=20)  # a hung worker never finishes it
        elapsed = time.monotonic() - started
    assert elapsed >= 4.9, elapsed
    stored = await job.snapshot()
    assert stored is not None
    assert stored.processed_on is not None
    assert stored.finished_on is not None
    # in BullMQ's own timestamps: created, then run once the 5 s had passed, then finished
    assert stored.timestamp + 5000 <= stored.processed_on <= stored.finished_on


async def test_the_limiter_holds_100_jobs_per_minute(example: ModuleType) -> None:
    """``afterSignUpEmail``: limiter 100 per 60000 ms, so 150 jobs leave 50 waiting for a minute."""
    from app.queues.queue_definitions import EmailSend

    payloads = [EmailSend(to=f"u{i}@example.com", template="w") for i in range(150)]
    await example.enqueue_after_sign_up_email_bulk(payloads)
    async with example.create_workers(queues=["emailSend"]):
        await eventually(lambda: _completed(example, 100), timeout=10)
        await asyncio.sleep(2.0)  # the worker keeps asking; the limiter keeps refusing
        counts = await example.email_send_queue.counts()
    assert counts.completed == 100
    assert counts.waiting == 50


async def _completed(example: ModuleType, count: int) -> bool:
    return (await example.email_send_queue.counts()).completed >= count


async def test_two_event_loops_in_a_row(example: ModuleType) -> None:
    """Connections are per event loop: a second loop (another asyncio.run) gets its own."""
    import threading

    from app.queues.queue_definitions import EmailSend

    async def enqueue_once() -> str:
        job = await example.enqueue_after_sign_up_email(EmailSend(to="a@b.co", template="w"))
        await example.close_connections()
        return job.id

    ids: list[str] = []
    thread = threading.Thread(
        target=lambda: ids.extend(asyncio.run(enqueue_once()) for _ in range(2))
    )
    thread.start()
    thread.join()
    ids.append(await enqueue_once())
    assert len(set(ids)) == 3
    assert (await example.email_send_queue.counts()).waiting == 3
