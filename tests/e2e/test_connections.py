"""Generated code connects lazily, per event loop, and closes everything in one call."""

from __future__ import annotations

import asyncio
import socket
from types import ModuleType

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from bullmq_codegen.testing import RedisSource, free_port

from ..helpers import EXAMPLES, import_fresh, purge_modules


async def test_importing_connects_to_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()  # nobody listens there
    monkeypatch.setenv("REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("REDIS_PORT", str(port))
    opened: list[object] = []
    real_connect = socket.socket.connect
    monkeypatch.setattr(
        socket.socket,
        "connect",
        lambda self, address: opened.append(address) or real_connect(self, address),
    )
    try:
        package = import_fresh(EXAMPLES, "app.queues.generated")
        group = package.create_workers()
        assert group.workers == {}  # built, not started
        assert opened == []
        from app.queues.queue_definitions import EmailSend

        with pytest.raises(RedisConnectionError):
            await package.enqueue_after_sign_up_email(EmailSend(to="a@b.co", template="w"))
        await package.close_connections()
    finally:
        purge_modules("app")


async def _client_count(url: str) -> int:
    observer = Redis.from_url(url, decode_responses=True)
    try:
        clients = await observer.client_list()
        return len(clients) - 1
    finally:
        await observer.aclose()


async def test_close_connections_closes_every_connection(
    example: ModuleType, redis: RedisSource
) -> None:
    if redis.shared:
        pytest.skip("counts connections: needs the suite's own Redis, not REDIS_URL")
    from app.queues.queue_definitions import EmailSend

    before = await _client_count(redis.url)
    group = example.create_workers()
    await group.start()
    jobs = await asyncio.gather(
        *(
            example.enqueue_after_sign_up_email(EmailSend(to=f"u{i}@b.co", template="w"))
            for i in range(20)
        )
    )
    for job in jobs:
        await job.wait_until_finished()
    assert await _client_count(redis.url) > before
    await example.close_connections()  # closes the running workers too
    assert [worker.state for worker in group.workers.values()] == ["closed", "closed"]
    assert await _client_count(redis.url) == before
