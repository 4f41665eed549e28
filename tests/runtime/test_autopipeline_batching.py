"""The commands of one loop turn reach Redis in one write, whatever is in flight.

Counted on a Redis of the test's own: no other client's reads in the count.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from redis.asyncio import Redis

from bullmq_codegen.runtime.autopipeline import AutoPipeline
from bullmq_codegen.runtime.connection import command_client
from bullmq_codegen.runtime.resp import pack
from bullmq_codegen.testing import RedisServer, find_redis_server


@pytest.fixture
def own_redis() -> Iterator[str]:
    found = find_redis_server()
    if found is None:
        pytest.skip("redis-server is missing")
    server = RedisServer(found[0])
    server.start()
    try:
        yield server.url
    finally:
        server.cleanup()


async def _reads(probe: Redis) -> int:
    """Redis's count of reads from its clients' sockets (this call's own included)."""
    stats = await probe.info("stats")  # pyright: ignore[reportUnknownMemberType]
    return int(stats["total_reads_processed"])


async def test_the_commands_of_one_loop_turn_are_read_by_redis_at_once(own_redis: str) -> None:
    client = command_client(own_redis)
    pipeline = AutoPipeline(client)
    probe = Redis.from_url(own_redis, single_connection_client=True)
    try:
        await pipeline.execute(pack("PING"))  # both connected before counting
        before = await _reads(probe)
        # 20 callers, each sending as soon as it runs: all in the same turn of the loop
        replies = await asyncio.gather(*(pipeline.execute(pack("INCR", "n")) for _ in range(20)))
        after = await _reads(probe)
    finally:
        await pipeline.close()
        await client.aclose()
        await probe.aclose()
    assert replies == list(range(1, 21))
    reads = after - before - 1  # the second INFO was read too
    assert reads == 1, f"Redis read the 20 commands in {reads} reads"
