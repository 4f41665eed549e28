"""Auto-pipelining against a real Redis: order, errors, lost scripts, lost connections."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from bullmq_codegen.runtime.autopipeline import AutoPipeline
from bullmq_codegen.runtime.connection import command_client
from bullmq_codegen.runtime.resp import ScriptCommand, pack
from bullmq_codegen.testing import RedisSource


@pytest.fixture
async def client(redis: RedisSource) -> AsyncIterator[Redis]:
    redis_client = command_client(redis.url)
    yield redis_client
    await redis_client.aclose()


@pytest.fixture
async def pipeline(client: Redis) -> AsyncIterator[AutoPipeline]:
    auto = AutoPipeline(client)
    yield auto
    await auto.close()


@contextlib.asynccontextmanager
async def timed_out(url: str, seconds: float) -> AsyncIterator[tuple[AutoPipeline, Redis]]:
    """An auto-pipeline on a client whose socket timeout is ``seconds``, and the client."""
    client: Redis = Redis.from_url(url, decode_responses=True, socket_timeout=seconds)
    pipeline = AutoPipeline(client)
    try:
        yield pipeline, client
    finally:
        await pipeline.close()
        await client.aclose()


async def test_every_caller_gets_its_own_reply_in_order(
    pipeline: AutoPipeline, prefix: str
) -> None:
    key = f"{prefix}:counter"
    replies = await asyncio.gather(*(pipeline.execute(pack("INCR", key)) for _ in range(500)))
    assert replies == list(range(1, 501))  # written and answered in call order, batched or not
    echoed = await asyncio.gather(*(pipeline.execute(pack("ECHO", f"é{i}")) for i in range(50)))
    assert echoed == [f"é{i}" for i in range(50)]


async def test_an_error_reply_fails_only_its_command(pipeline: AutoPipeline, prefix: str) -> None:
    await pipeline.execute(pack("SET", f"{prefix}:text", "x"))
    results = await asyncio.gather(
        pipeline.execute(pack("INCR", f"{prefix}:n")),
        pipeline.execute(pack("INCR", f"{prefix}:text")),
        pipeline.execute(pack("INCR", f"{prefix}:n")),
        return_exceptions=True,
    )
    assert results[0] == 1
    assert isinstance(results[1], ResponseError)
    assert results[2] == 2


async def test_a_script_redis_lost_is_loaded_again(pipeline: AutoPipeline, client: Redis) -> None:
    source = "return ARGV[1] .. '!'"
    sha = await client.script_load(source)
    command = ScriptCommand(sha=sha, source=source, before=[], varying=False)
    assert await pipeline.run_script(command, command.packed(None, ["a"])) == "a!"
    await client.script_flush()
    assert await pipeline.run_script(command, command.packed(None, ["b"])) == "b!"


async def test_a_lost_connection_fails_waiting_commands_then_reconnects(
    pipeline: AutoPipeline, client: Redis, prefix: str
) -> None:
    await pipeline.execute(pack("CLIENT", "SETNAME", f"{prefix}-auto"))
    blocked = asyncio.ensure_future(pipeline.execute(pack("BLPOP", f"{prefix}:never", "5")))
    await asyncio.sleep(0.1)
    await client.client_kill_filter(_type="normal", skipme=True)  # drops the pipeline's connection
    with pytest.raises(RedisConnectionError):
        await blocked
    assert await pipeline.execute(pack("PING")) in ("PONG", True)


async def test_execute_all_sends_a_transaction_back_to_back(
    pipeline: AutoPipeline, prefix: str
) -> None:
    key = f"{prefix}:list"
    others = [
        asyncio.ensure_future(pipeline.execute(pack("RPUSH", key, "other"))) for _ in range(20)
    ]
    replies = await pipeline.execute_all(
        [pack("MULTI"), pack("RPUSH", key, "a"), pack("RPUSH", key, "b"), pack("EXEC")]
    )
    await asyncio.gather(*others)
    assert replies[:3] == ["OK", "QUEUED", "QUEUED"]
    first, second = replies[3]
    assert second == first + 1  # nothing ran between the two pushes


async def test_a_connection_redis_closed_while_idle_is_replaced_before_writing(
    pipeline: AutoPipeline, client: Redis, prefix: str
) -> None:
    assert await pipeline.execute(pack("INCR", f"{prefix}:n")) == 1
    await client.client_kill_filter(_type="normal", skipme=True)  # the pipeline's idle connection
    await asyncio.sleep(0.1)  # the close reaches this process
    assert await pipeline.execute(pack("INCR", f"{prefix}:n")) == 2  # no error for the caller


async def test_a_reply_later_than_the_socket_timeout_fails_its_command_then_reconnects(
    redis: RedisSource, prefix: str
) -> None:
    # replies are read off the connection's stream, not with redis-py's read_response: its
    # socket timeout still ends a wait for bytes that lasts longer
    async with timed_out(redis.url, 0.2) as (pipeline, _):
        assert await pipeline.execute(pack("PING")) in ("PONG", True)
        with pytest.raises(RedisConnectionError, match="Timeout reading"):
            await pipeline.execute(pack("BLPOP", f"{prefix}:never", "2"))
        assert await pipeline.execute(pack("INCR", f"{prefix}:n")) == 1


async def test_replies_quicker_than_the_socket_timeout_never_time_out(
    redis: RedisSource, prefix: str
) -> None:
    # the timeout counts from each wait for bytes, not from the connection's first one
    async with timed_out(redis.url, 0.3) as (pipeline, _):
        for count in range(1, 6):
            await asyncio.sleep(0.1)
            assert await pipeline.execute(pack("BLPOP", f"{prefix}:never", "0.1")) is None
            assert await pipeline.execute(pack("INCR", f"{prefix}:n")) == count


async def test_a_push_message_is_no_commands_reply(
    pipeline: AutoPipeline, client: Redis, prefix: str
) -> None:
    # RESP3 (redis-py's default): an invalidation push from CLIENT TRACKING arrives between
    # replies; redis-py's handlers take it and every command still gets its own reply
    key = f"{prefix}:tracked"
    await client.set(key, "a")
    if await pipeline.execute(pack("HELLO", "3")) is None:
        pytest.skip("no RESP3")
    assert await pipeline.execute(pack("CLIENT", "TRACKING", "ON")) in ("OK", True)
    assert await pipeline.execute(pack("GET", key)) == "a"
    await client.set(key, "b")  # Redis pushes an invalidation of the key to the pipeline's
    await asyncio.sleep(0.05)
    assert await pipeline.execute(pack("GET", key)) == "b"
    assert await pipeline.execute(pack("ECHO", "after")) == "after"


async def test_an_idle_connection_outlives_the_socket_timeout(
    redis: RedisSource, prefix: str
) -> None:
    # between commands the reader stays on the connection; the timeout is for replies only
    async with timed_out(redis.url, 0.2) as (pipeline, client):
        await pipeline.execute(pack("CLIENT", "SETNAME", f"{prefix}-idle"))
        names = await client.client_list()
        await asyncio.sleep(0.6)  # three socket timeouts with nothing in flight
        assert await pipeline.execute(pack("INCR", f"{prefix}:n")) == 1
        assert await pipeline.execute(pack("CLIENT", "GETNAME")) == f"{prefix}-idle"  # same one
        assert [c for c in names if c["name"] == f"{prefix}-idle"]
