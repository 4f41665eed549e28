"""Jobs that arrive wrong (from Node, raw bullmq, an older version) fail at once, not retried."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import ModuleType

import pytest
from bullmq import Queue

from bullmq_codegen.runtime import JobFailedError
from bullmq_codegen.testing import RedisSource


@pytest.fixture
async def raw_queue(redis_env: RedisSource, prefix: str) -> AsyncIterator[Queue]:
    """bullmq-py's own Queue on the example's ``emailSend`` queue, bypassing our producers."""
    queue = Queue("emailSend", {"connection": redis_env.url, "prefix": prefix})
    yield queue
    await queue.close()


async def test_invalid_data_fails_with_the_validation_error(
    example: ModuleType, raw_queue: Queue
) -> None:
    job = await raw_queue.add("afterSignUpEmail", {"to": "nobody", "extra": 1}, {"attempts": 3})
    async with example.create_workers(queues=["emailSend"]):
        with pytest.raises(JobFailedError) as failure:
            await example.email_send_queue.wait_until_finished(job.id, timeout=10)
    reason = failure.value.reason
    assert "invalid payload for job 'afterSignUpEmail' (schema EmailSend)" in reason
    assert "to\n  String should match pattern" in reason
    assert "template\n  Field required" in reason
    stored = await example.email_send_queue.get_job(job.id)
    assert stored is not None
    assert stored.attempts_made == 1  # not retried although attempts is 3


async def test_unknown_job_name_fails_and_names_it(example: ModuleType, raw_queue: Queue) -> None:
    job = await raw_queue.add("afterSignUpMail", {"to": "a@b.co", "template": "w"}, {"attempts": 3})
    async with example.create_workers(queues=["emailSend"]):
        with pytest.raises(JobFailedError) as failure:
            await example.email_send_queue.wait_until_finished(job.id, timeout=10)
    assert failure.value.reason == (
        "no processor for job name 'afterSignUpMail' in queue 'emailSend': "
        "its workers here run afterSignUpEmail"
    )
    stored = await example.email_send_queue.get_job(job.id)
    assert stored is not None
    assert stored.attempts_made == 1


async def test_valid_raw_jobs_are_processed(example: ModuleType, raw_queue: Queue) -> None:
    job = await raw_queue.add("afterSignUpEmail", {"to": "a@b.co", "template": "w"})
    async with example.create_workers(queues=["emailSend"]):
        result = await example.email_send_queue.wait_until_finished(job.id, timeout=10)
    assert result == {"to": "a@b.co", "message_id": f"<{job.id}@example.com>"}
