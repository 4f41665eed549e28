"""The bundled example, end to end: generate its code, then run its jobs against Redis.

    uv run python examples/demo.py

Redis comes from REDIS_URL when set, else a throwaway redis-server started for
the demo (and stopped after it); the demo says which. It takes about 6 s: the
``dbCleanUp`` job is delayed 5 s by that job name's ``defaultJobOptions``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import ValidationError

from bullmq_codegen import BullMQCodeGen
from bullmq_codegen.testing import RedisUnavailableError, redis_source

EXAMPLES = Path(__file__).resolve().parent
DEFINITIONS = EXAMPLES / "app" / "queues" / "queue_definitions.py"


def point_example_at(url: str) -> None:
    """The example reads REDIS_HOST, REDIS_PORT, REDIS_PASSWORD and REDIS_DB, as the original."""
    parts = urlsplit(url)
    os.environ["REDIS_HOST"] = parts.hostname or "localhost"
    os.environ["REDIS_PORT"] = str(parts.port or 6379)
    os.environ["REDIS_DB"] = parts.path.strip("/") or "0"
    if parts.password:
        os.environ["REDIS_PASSWORD"] = parts.password


async def run_jobs() -> None:
    """Enqueue through the generated producers, process with the generated workers."""
    from app.queues.generated import (
        close_connections,
        create_workers,
        db_operations_queue,
        enqueue_after_sign_up_email,
        enqueue_after_sign_up_email_and_wait,
        enqueue_db_clean_up,
    )
    from app.queues.queue_definitions import EmailSend

    async with create_workers():
        started = time.monotonic()
        emails = [
            await enqueue_after_sign_up_email(
                EmailSend(to=f"user{i}@example.com", template="welcome")
            )
            for i in range(3)
        ]
        print(
            f"enqueued {len(emails)} afterSignUpEmail jobs: ids {', '.join(job.id for job in emails)}"
        )
        try:
            await enqueue_after_sign_up_email(
                EmailSend.model_construct(to="not-an-address", template="welcome")
            )
        except ValidationError as error:
            print(f"refused before Redis: {error.errors()[0]['msg']} (to='not-an-address')")
        cleanup = await enqueue_db_clean_up()
        print(f"enqueued dbCleanUp job {cleanup.id} (its job name delays it by 5000 ms)")
        for scheduler in await db_operations_queue.schedulers():
            print(
                f"job scheduler {scheduler.id!r}: {scheduler.name} at {scheduler.pattern!r} "
                f"({scheduler.tz}), next at {scheduler.next_run}"
            )
        for job in emails:
            sent = await job.result(timeout=10)
            print(
                f"  job {job.id} result: EmailSent(to={sent.to!r}, message_id={sent.message_id!r})"
            )
        print(f"afterSignUpEmail jobs completed after {time.monotonic() - started:.2f} s")
        sent = await enqueue_after_sign_up_email_and_wait(
            EmailSend(to="waiting@example.com", template="welcome"), timeout=10
        )
        print(f"enqueue_after_sign_up_email_and_wait returned {sent!r}")
        await cleanup.wait_until_finished(timeout=15)
        print(f"dbCleanUp job completed after {time.monotonic() - started:.2f} s")
    await close_connections()


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="  worker log: %(message)s")
    logging.getLogger("bullmq_codegen").setLevel(logging.WARNING)
    try:
        with redis_source() as redis:
            print(f"Redis: {redis.origin} ({redis.url})")
            point_example_at(redis.url)
            result = BullMQCodeGen(config=DEFINITIONS).generate()
            changed = ", ".join(result.written) or "nothing changed"
            print(f"generated {result.out_dir.relative_to(EXAMPLES.parent)}: {changed}")
            sys.path.insert(0, str(EXAMPLES))
            asyncio.run(run_jobs())
    except RedisUnavailableError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("demo done")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
