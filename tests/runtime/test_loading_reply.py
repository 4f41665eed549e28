"""A ``-LOADING`` reply on the auto-pipelined connection is one command's error, not a dead
connection (issue 12, defect 5).

Redis answers ``-LOADING`` while it loads its data after a restart; redis-py raises it
as ``BusyLoadingError``, a ``ConnectionError``, and used to drop the connection, so
every other command in flight failed although Redis ran it. Here a proxy in front
of the suite's real Redis turns chosen commands into a command Redis refuses
(``LOADINGTEST``: it runs nothing and, inside ``MULTI``, aborts the transaction as a
refused command does) and hands their callers ``-LOADING`` in its place, as a
loading Redis would. Every other command and reply passes through unchanged. The
last test has a real Redis load its data (``DEBUG RELOAD``, slowed down) while
commands arrive.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from redis.exceptions import BusyLoadingError

from bullmq_codegen.runtime import autopipeline
from bullmq_codegen.runtime.autopipeline import AutoPipeline
from bullmq_codegen.runtime.connection import command_client
from bullmq_codegen.runtime.resp import pack
from bullmq_codegen.testing import (
    RedisServer,
    RedisSource,
    RedisUnavailableError,
    find_redis_server,
)

from ..redis_proxy import RedisProxy


@pytest.fixture
async def proxy(redis: RedisSource) -> AsyncIterator[RedisProxy]:
    loading = RedisProxy(redis.url)
    await loading.start()
    yield loading
    await loading.close()


@pytest.fixture
async def direct(redis: RedisSource) -> AsyncIterator[Redis]:
    client = command_client(redis.url)
    yield client
    await client.aclose()


@pytest.fixture
async def pipeline(proxy: RedisProxy) -> AsyncIterator[AutoPipeline]:
    client = command_client(f"redis://127.0.0.1:{proxy.port}/0")
    auto = AutoPipeline(client)
    yield auto
    await auto.close()
    await client.aclose()


def _once(marker: bytes) -> Callable[[bytes], bool]:
    """Refuse the first command that holds ``marker``, then none."""
    seen: list[bytes] = []

    def refuse(command: bytes) -> bool:
        if marker in command and not seen:
            seen.append(command)
            return True
        return False

    return refuse


async def test_a_loading_reply_fails_no_other_command_in_flight(
    pipeline: AutoPipeline, proxy: RedisProxy, direct: Redis, prefix: str
) -> None:
    await pipeline.execute(pack("PING"))  # connected: the commands below go out together
    keys = [f"{prefix}:k{i}" for i in range(8)]
    proxy.refuse = _once(keys[2].encode())
    replies = await asyncio.gather(
        *(pipeline.execute(pack("INCRBY", key, index + 1)) for index, key in enumerate(keys)),
        return_exceptions=True,
    )
    assert len(proxy.refused) == 1
    wanted = [index + 1 for index in range(len(keys))]
    others = [reply for index, reply in enumerate(replies) if index != 2]
    assert others == [want for index, want in enumerate(wanted) if index != 2], others
    assert replies[2] == wanted[2]  # sent again: Redis had not run it
    stored = await direct.mget(keys)
    assert stored == [str(index + 1) for index in range(len(keys))]  # each ran once


async def test_a_command_refused_while_loading_runs_once_redis_has_loaded(
    pipeline: AutoPipeline, proxy: RedisProxy, direct: Redis, prefix: str
) -> None:
    key = f"{prefix}:added"
    refusals = 3
    proxy.refuse = lambda command: key.encode() in command and len(proxy.refused) < refusals
    assert await pipeline.execute(pack("RPUSH", key, "job")) == 1
    assert len(proxy.refused) == refusals
    assert await direct.lrange(key, 0, -1) == ["job"]


async def test_a_command_refused_for_longer_gets_the_loading_error(
    pipeline: AutoPipeline,
    proxy: RedisProxy,
    direct: Redis,
    prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(autopipeline, "LOADING_PATIENCE", 0.3)
    key = f"{prefix}:never"
    proxy.refuse = lambda command: key.encode() in command
    other = f"{prefix}:other"
    refused, ran = await asyncio.gather(
        pipeline.execute(pack("SET", key, "x")),
        pipeline.execute(pack("SET", other, "y")),
        return_exceptions=True,
    )
    assert isinstance(refused, BusyLoadingError)
    assert ran is True or ran == "OK"
    assert await direct.get(key) is None
    assert await direct.get(other) == "y"


async def test_a_transaction_aborted_while_loading_is_sent_again_whole(
    pipeline: AutoPipeline, proxy: RedisProxy, direct: Redis, prefix: str
) -> None:
    first, second = f"{prefix}:t1", f"{prefix}:t2"
    proxy.refuse = _once(second.encode())
    replies = await pipeline.execute_all(
        [pack("MULTI"), pack("INCR", first), pack("INCR", second), pack("EXEC")]
    )
    assert len(proxy.refused) == 1
    assert replies[-1] == [1, 1]  # the second sending ran; the first ran nothing
    assert await direct.mget([first, second]) == ["1", "1"]


async def test_a_batch_partly_run_is_not_sent_again(
    pipeline: AutoPipeline, proxy: RedisProxy, direct: Redis, prefix: str
) -> None:
    ran, refused = f"{prefix}:ran", f"{prefix}:refused"
    proxy.refuse = _once(refused.encode())
    replies = await pipeline.execute_all([pack("INCR", ran), pack("INCR", refused)])
    assert replies[0] == 1
    assert isinstance(replies[1], BusyLoadingError)  # its caller decides; INCR ran ran once
    assert await direct.mget([ran, refused]) == ["1", None]


async def test_commands_sent_while_redis_loads_its_data_run_once_it_is_done(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    found = find_redis_server()
    if found is None:
        pytest.skip("needs a redis-server of its own, to reload its data")
    monkeypatch.setattr(autopipeline, "LOADING_PATIENCE", 60.0)  # however slow the machine
    debug = ["--enable-debug-command", "yes", "--loading-process-events-interval-bytes", "1024"]
    server = RedisServer(found[0], extra_args=debug)
    try:
        server.start()
    except RedisUnavailableError as error:
        server.cleanup()
        pytest.skip(f"needs a redis-server of version 7 or later (DEBUG enabled): {error}")
    try:
        admin = SyncRedis(port=server.port, decode_responses=True)
        admin.execute_command("DEBUG", "POPULATE", "5000", "filler", "10")
        admin.config_set("key-load-delay", "100")  # µs a key: the load takes a second or more
        client = command_client(server.url)
        pipeline = AutoPipeline(client)
        try:
            await pipeline.execute(pack("PING"))  # connected before the load starts
            # answers the other clients -LOADING while it loads
            reload = asyncio.ensure_future(
                asyncio.to_thread(admin.execute_command, "DEBUG", "RELOAD")
            )
            replies: list[object] = []
            while not reload.done():
                replies += await asyncio.gather(
                    *(pipeline.execute(pack("INCR", "sent")) for _ in range(5)),
                    return_exceptions=True,
                )
            await reload
            refused = admin.info("errorstats").get("errorstat_LOADING", {"count": 0})
            assert refused["count"] > 0  # Redis did answer -LOADING
            assert [reply for reply in replies if isinstance(reply, BaseException)] == []
            assert sorted(replies) == list(range(1, len(replies) + 1))  # type: ignore[type-var]
            assert admin.get("sent") == str(len(replies))  # each ran once
        finally:
            await pipeline.close()
            await client.aclose()
            admin.close()
    finally:
        server.cleanup()
