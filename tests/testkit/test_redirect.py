"""``Runtime.redirected``: generated code on another Redis and prefix, config untouched,
nothing crossing from one to the other."""

from __future__ import annotations

from types import ModuleType

import pytest
from redis import Redis

from bullmq_codegen.runtime import Runtime
from bullmq_codegen.testing import RedisServer, RedisSource, find_redis_server, run_until_drained

from ..helpers import eventually


def order(number: int) -> object:
    from shop.jobs import Order

    return Order(order_id=number, amount_cents=100 * number, email=f"c{number}@example.com")


async def test_two_prefixes_do_not_see_each_others_jobs(
    shop: ModuleType, redis: RedisSource, prefix: str
) -> None:
    runtime: Runtime = shop.queues.runtime
    config = runtime.config
    first, second = f"{prefix}-a", f"{prefix}-b"
    async with runtime.redirected(connection=redis.url, prefix=first):
        assert runtime.config is not config
        assert runtime.config.prefix == first
        await shop.enqueue_charge_order(order(1))
        await shop.enqueue_charge_order(order(2))
        assert (await shop.orders_queue.counts()).waiting == 2
    async with runtime.redirected(connection=redis.url, prefix=second):
        assert (await shop.orders_queue.counts()).waiting == 0
        await shop.enqueue_charge_order(order(3))
        report = await run_until_drained(shop.create_workers(), runtime)
        assert sorted(job.name for job in report.completed) == ["chargeOrder", "sendReceipt"]
    async with runtime.redirected(connection=redis.url, prefix=first):
        counts = await shop.orders_queue.counts()
        assert (counts.waiting, counts.completed) == (2, 0)  # the other prefix ran only its own
    # the definitions' config object was never changed, and is the runtime's again
    assert runtime.config is config
    assert (config.prefix, config.connection) == ("bull", "redis://127.0.0.1:1/0")
    raw = Redis.from_url(redis.url, decode_responses=True)
    try:
        assert raw.llen(f"{first}:orders:wait") == 2
        assert raw.zcard(f"{second}:orders:completed") == 1
        assert raw.zcard(f"{second}:receipts:completed") == 1
        assert not raw.exists("bull:orders:wait", "bull:orders:id")
    finally:
        raw.close()


async def test_connections_opened_inside_are_closed_on_exit(shop: ModuleType) -> None:
    found = find_redis_server()
    if found is None:
        pytest.skip("needs a redis-server of its own, to count its clients")
    runtime: Runtime = shop.queues.runtime
    with RedisServer(found[0]) as server:
        watcher = Redis(port=server.port)
        try:
            alone = len(watcher.client_list())
            async with runtime.redirected(connection=server.url, prefix="p"):
                await shop.enqueue_charge_order(order(1))
                await run_until_drained(shop.create_workers(), runtime)
                assert len(watcher.client_list()) > alone

            async def only_the_watcher_is_left() -> bool:
                return len(watcher.client_list()) == alone

            await eventually(only_the_watcher_is_left, timeout=5)
        finally:
            watcher.close()


async def test_connections_open_before_are_set_aside_and_back_after(
    shop: ModuleType, redis: RedisSource, prefix: str
) -> None:
    runtime: Runtime = shop.queues.runtime
    async with runtime.redirected(connection=redis.url, prefix=f"{prefix}-outer"):
        await shop.enqueue_charge_order(order(1))
        outer = shop.orders_queue.context()
        async with runtime.redirected(connection=redis.url, prefix=f"{prefix}-inner"):
            inner = shop.orders_queue.context()
            assert inner is not outer
            assert inner.client is not outer.client
            assert (await shop.orders_queue.counts()).waiting == 0
        assert shop.orders_queue.context() is outer  # still open, in use again
        assert (await shop.orders_queue.counts()).waiting == 1


async def test_blocks_must_end_in_reverse_order(
    shop: ModuleType, redis: RedisSource, prefix: str
) -> None:
    runtime: Runtime = shop.queues.runtime
    outer = runtime.redirected(connection=redis.url, prefix=f"{prefix}-outer")
    inner = runtime.redirected(connection=redis.url, prefix=f"{prefix}-inner")
    await outer.__aenter__()
    await inner.__aenter__()
    with pytest.raises(RuntimeError, match="must end in reverse order"):
        await outer.__aexit__(None, None, None)
    await inner.__aexit__(None, None, None)
    assert runtime.config.prefix == f"{prefix}-outer"
    await runtime.close()
