"""Large bulks go in bounded transactions; a failure part way says exactly where to resume.

Each fault test checks the same invariant against what Redis holds: the jobs
in the queue are exactly the items before ``resume_index``, in order, with the
ids the error reports (no partial chunk), and adding the rest from there
completes the bulk with nothing twice. Node BullMQ takes a chunked bulk's jobs
in the order they were given.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from bullmq_codegen import create_queue_config
from bullmq_codegen.definitions.options import JobOptions
from bullmq_codegen.runtime import Runtime
from bullmq_codegen.runtime.adding import BulkEnqueueError, add_jobs
from bullmq_codegen.runtime.queue_context import QueueContext
from bullmq_codegen.testing import RedisServer, RedisSource, find_redis_server
from bullmq_codegen.testing.node import node_bullmq

from ..cases_support import Ping, ping
from ..helpers import eventually

NODE_CONTROL = Path(__file__).parents[1] / "e2e" / "node" / "control.js"


def payloads(count: int, size: int = 0) -> list[str]:
    pad = "x" * size
    return [json.dumps({"host": f"h{i}{pad}"}, separators=(",", ":")) for i in range(count)]


def make_runtime(url: str, prefix: str) -> Runtime:
    return Runtime(
        create_queue_config(
            queues={"pings": {"workers": {"ping": {"schema": Ping, "processor": ping}}}},
            connection=url,
            prefix=prefix,
        )
    )


@pytest.fixture
async def runtime(redis: RedisSource, prefix: str) -> AsyncIterator[Runtime]:
    runtime = make_runtime(redis.url, prefix)
    yield runtime
    await runtime.close()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own (AOF on, so a restart keeps the data), free to kill."""
    found = find_redis_server()
    if found is None:
        pytest.skip("a redis-server binary is needed to restart and kill Redis")
    server = RedisServer(found[0], directory=tmp_path, persistent=True)
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
async def own_runtime(own_redis: RedisServer, prefix: str) -> AsyncIterator[Runtime]:
    runtime = make_runtime(own_redis.url, prefix)
    yield runtime
    await runtime.close()


async def stored_in_order(ctx: QueueContext) -> tuple[list[str], list[str]]:
    """The ids in the wait list, oldest first, and their stored data."""
    client = ctx.client
    ids = list(reversed(await client.lrange(ctx.keys["wait"], 0, -1)))
    data: list[str] = []
    for start in range(0, len(ids), 5000):
        async with client.pipeline(transaction=False) as pipe:
            for job_id in ids[start : start + 5000]:
                pipe.hget(ctx.job_key(job_id), "data")
            data.extend(await pipe.execute())
    return ids, data


async def assert_resumes_exactly(ctx: QueueContext, items: list[str], error: BulkEnqueueError):
    """Redis holds items[:resume_index] with the reported ids; the rest completes the bulk."""
    assert not error.in_doubt
    assert error.resume_index == len(error.job_ids)
    ids, data = await stored_in_order(ctx)
    assert ids == error.job_ids
    assert data == items[: error.resume_index]
    rest = await add_jobs(ctx, "ping", items[error.resume_index :], {})
    ids, data = await stored_in_order(ctx)
    assert ids == [*error.job_ids, *rest]
    assert data == items
    assert len(set(ids)) == len(items)


async def holds(client: Redis, ctx: QueueContext, count: int) -> bool:
    return int(await client.llen(ctx.keys["wait"])) >= count


class Pinger:
    """PINGs Redis from a thread of its own while a bulk runs; the worst latency seen."""

    def __init__(self, url: str) -> None:
        self.client = SyncRedis.from_url(url)
        self.worst = 0.0
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            began = time.perf_counter()
            self.client.ping()
            self.worst = max(self.worst, time.perf_counter() - began)
            self.count += 1
            time.sleep(0.001)

    def __enter__(self) -> Pinger:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.client.close()


@pytest.mark.slow
async def test_a_hundred_thousand_payloads_keep_their_order_and_redis_answers(
    runtime: Runtime, redis: RedisSource, record_property: Any
) -> None:
    ctx = runtime.context("pings")
    items = payloads(100_000)
    with Pinger(redis.url) as pinger:
        began = time.perf_counter()
        ids = await add_jobs(ctx, "ping", iter(items), {"removeOnComplete": True})
        elapsed = time.perf_counter() - began
    stored_ids, data = await stored_in_order(ctx)
    assert stored_ids == ids
    assert data == items
    assert len(set(ids)) == 100_000
    record_property("worst_ping_ms", round(pinger.worst * 1000, 1))
    print(
        f"\n100,000 jobs in {elapsed:.1f} s; worst concurrent PING {pinger.worst * 1000:.1f} ms "
        f"({pinger.count} PINGs)"
    )
    assert pinger.count > 10  # Redis answered all along, not only before and after
    # One chunk holds Redis for milliseconds; one 100,000-job EXEC would hold it for most of
    # the add. A ratio, not a time, so a loaded machine slows both sides alike.
    assert pinger.worst < elapsed / 4, (pinger.worst, elapsed)


async def test_a_bulk_that_fits_in_one_chunk_is_one_transaction(
    runtime: Runtime, redis: RedisSource
) -> None:
    ctx = runtime.context("pings")
    client = Redis.from_url(redis.url, decode_responses=True)
    try:
        before = (await client.info("commandstats")).get("cmdstat_exec", {}).get("calls", 0)
        ids = await add_jobs(ctx, "ping", payloads(300), {}, chunk_size=300)
        after = (await client.info("commandstats"))["cmdstat_exec"]["calls"]
    finally:
        await client.aclose()
    assert after - before == 1
    assert (await stored_in_order(ctx))[0] == ids


async def test_per_job_options_apply_to_their_own_job(runtime: Runtime) -> None:
    ctx = runtime.context("pings")
    options: list[JobOptions] = [{"jobId": f"job-{i}", "priority": i % 2} for i in range(5)]
    ids = await add_jobs(ctx, "ping", payloads(5), options, chunk_size=2)
    assert ids == [f"job-{i}" for i in range(5)]
    assert await ctx.client.zcard(ctx.keys["prioritized"]) == 2
    with pytest.raises(ValueError, match="add_jobs: 2 per-job options for 3 jobs"):
        await add_jobs(ctx, "ping", payloads(3), options[:2])


async def test_client_kill_mid_bulk_reports_where_to_resume(
    own_runtime: Runtime, own_redis: RedisServer
) -> None:
    """A kill that lands between chunks is survived (the idle connection is replaced); one
    that lands on a chunk in flight stops the bulk where it can be resumed."""
    ctx = own_runtime.context("pings")
    items = payloads(30_000)
    bulk = asyncio.ensure_future(add_jobs(ctx, "ping", items, {}, chunk_size=700))
    killer = Redis.from_url(own_redis.url, decode_responses=True)
    kills = 0
    try:
        await eventually(lambda: holds(killer, ctx, 5000), timeout=60, interval=0.005)
        while not bulk.done():
            kills += await killer.execute_command(
                "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"
            )
            await asyncio.sleep(0.05)
    finally:
        await killer.aclose()
    assert kills >= 1
    outcome = (await asyncio.gather(bulk, return_exceptions=True))[0]
    if isinstance(outcome, BulkEnqueueError):
        assert 5000 <= outcome.resume_index < 30_000
        assert outcome.resume_index % 700 == 0
        await assert_resumes_exactly(ctx, items, outcome)
    else:
        assert (await stored_in_order(ctx)) == (outcome, items)


async def test_redis_restart_mid_bulk_reports_where_to_resume(
    own_runtime: Runtime, own_redis: RedisServer
) -> None:
    ctx = own_runtime.context("pings")
    items = payloads(30_000)
    bulk = asyncio.ensure_future(add_jobs(ctx, "ping", items, {}, chunk_size=500))
    watcher = Redis.from_url(own_redis.url, decode_responses=True)
    try:
        await eventually(lambda: holds(watcher, ctx, 5000), timeout=60, interval=0.005)
    finally:
        await watcher.aclose()
    await asyncio.to_thread(own_redis.restart)
    with pytest.raises(BulkEnqueueError) as caught:
        await bulk
    assert caught.value.resume_index % 500 == 0
    await assert_resumes_exactly(ctx, items, caught.value)


async def test_a_reply_lost_after_exec_is_settled_by_the_chunk_marker(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The transaction ran, then the connection broke before its reply came back."""
    ctx = runtime.context("pings")
    real = ctx.pipeline.execute_all
    calls = 0

    async def reply_lost_on_third(commands: list[bytes]) -> list[Any]:
        nonlocal calls
        calls += 1
        replies = await real(commands)
        if calls == 3:
            raise RedisConnectionError("connection lost while reading the reply")
        return replies

    monkeypatch.setattr(ctx.pipeline, "execute_all", reply_lost_on_third)
    items = payloads(1000)
    with pytest.raises(BulkEnqueueError) as caught:
        await add_jobs(ctx, "ping", items, {}, chunk_size=100)
    assert caught.value.resume_index == 300  # the third chunk was added, and is counted
    monkeypatch.undo()
    await assert_resumes_exactly(ctx, items, caught.value)


async def test_a_transaction_redis_refuses_adds_nothing_of_its_chunk(
    own_runtime: Runtime, own_redis: RedisServer
) -> None:
    ctx = own_runtime.context("pings")
    client = Redis.from_url(own_redis.url, decode_responses=True)
    try:
        await add_jobs(ctx, "ping", payloads(10), {})  # scripts loaded, memory settled
        await client.delete(ctx.keys["wait"], *(ctx.job_key(str(i)) for i in range(1, 11)))
        used = int((await client.info("memory"))["used_memory"])
        await client.config_set("maxmemory", str(used + 3_000_000))
        items = payloads(10_000, size=1000)  # ~10 MB: Redis fills up part way
        with pytest.raises(BulkEnqueueError, match=r"used memory > 'maxmemory'") as caught:
            await add_jobs(ctx, "ping", items, {}, chunk_size=250)
        await client.config_set("maxmemory", "0")
    finally:
        await client.aclose()
    assert 0 < caught.value.resume_index < 10_000
    assert caught.value.resume_index % 250 == 0
    await assert_resumes_exactly(ctx, items, caught.value)


async def test_one_job_failing_inside_a_chunk_is_named_and_the_others_kept(
    runtime: Runtime,
) -> None:
    ctx = runtime.context("pings")
    await ctx.client.set(ctx.job_key("taken"), "not a job hash")
    options: list[JobOptions] = [{"jobId": f"j{i}"} for i in range(6)]
    options[4] = {"jobId": "taken"}
    with pytest.raises(BulkEnqueueError, match=r"items \[4\] failed") as caught:
        await add_jobs(ctx, "ping", payloads(6), options, chunk_size=3)
    error = caught.value
    assert error.resume_index == 6  # the chunk ran: the others of it were added
    assert error.job_ids == ["j0", "j1", "j2", "j3", None, "j5"]
    assert set(error.failed) == {4}
    assert "WRONGTYPE" in error.failed[4]
    ids, _ = await stored_in_order(ctx)
    assert ids == ["j0", "j1", "j2", "j3", "j5"]


async def test_node_takes_a_chunked_bulk_in_order(
    runtime: Runtime, redis: RedisSource, prefix: str
) -> None:
    modules = node_bullmq()
    if modules is None:
        pytest.skip("Node.js and npm (and the npm registry) are needed for the interop check")
    ctx = runtime.context("pings")
    ids = await add_jobs(ctx, "ping", payloads(300), {"attempts": 2}, chunk_size=64)
    node = await asyncio.create_subprocess_exec(
        "node",
        str(NODE_CONTROL),
        "run",
        redis.url,
        prefix,
        "pings",
        "300",
        "ok",
        env={**os.environ, "NODE_PATH": str(modules)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(node.communicate(), timeout=60)
    assert node.returncode == 0, err.decode()
    assert json.loads(out) == ids
