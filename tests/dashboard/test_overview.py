"""The overview (dashboard and ``status``) read from a real Redis: counts, paused, BullMQ's
per-minute metrics written by real workers, the workers alive, and a bounded number of commands
that never scans keys."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import pytest
from redis.asyncio import Redis

from bullmq_codegen import create_queue_config
from bullmq_codegen.dashboard.overview import MINUTES, per_minute, read_overview
from bullmq_codegen.runtime import Runtime
from bullmq_codegen.testing import RedisServer, find_redis_server

from ..cases_support import Ping, ping
from ..helpers import eventually


async def test_counts_paused_metrics_and_workers_of_each_queue(
    case: ModuleType, fail_flag: Path
) -> None:
    runtime = case.queues.runtime
    for index in range(4):
        await case.enqueue_send_mail({"to": f"u{index}@example.com", "subject": "hi"})
    await case.reports_queue.pause()
    await case.enqueue_build_report()
    async with case.create_workers(queues=["mail"]):

        async def mail_done() -> bool:
            return (await case.mail_queue.counts()).completed == 4

        await eventually(mail_done, timeout=30)
        fail_flag.touch()
        await case.enqueue_send_mail({"to": "bad@example.com", "subject": "hi"})

        async def one_failed() -> bool:
            return (await case.mail_queue.counts()).failed == 1

        await eventually(one_failed, timeout=30)
        overview = await read_overview(runtime, ["mail", "reports"])

    mail, reports = overview.queues
    assert (mail.name, reports.name) == ("mail", "reports")
    assert mail.counts.completed == 4
    assert mail.counts.failed == 1
    assert not mail.paused
    assert reports.paused
    assert reports.counts.waiting == 1  # BullMQ 5+ keeps a paused queue's jobs in wait
    # BullMQ's metrics, recorded by our workers (metrics.maxDataPoints) and read back
    assert mail.metrics_recorded
    assert not reports.metrics_recorded
    assert len(mail.completed_per_minute) == MINUTES
    assert (mail.completed_last_hour, mail.failed_last_hour) == (4, 1)
    assert mail.failure_rate == pytest.approx(1 / 5)
    (worker,) = mail.alive
    assert (worker["host"], worker["pid"], worker["concurrency"]) == (
        socket.gethostname(),
        os.getpid(),
        3,
    )
    assert reports.alive == []
    data = overview.to_json()
    assert data["queues"][0]["workersAlive"] == 1
    assert data["queues"][1]["paused"] is True


def test_per_minute_places_bullmq_data_points_by_minute() -> None:
    now = 100 * 60_000 + 5_000  # minute 100
    # prevTS in minute 98 (3 finished since), data: minute 97 had 2, minute 96 had 0, 95 had 7
    reply = [["10", str(98 * 60_000 + 1), "7"], ["2", "0", "7"], 3]
    series = per_minute(reply, now)
    assert series[-1] == 0
    assert series[-2] == 0
    assert series[-3:-7:-1] == [3, 2, 0, 7]  # minutes 98, 97, 96, 95
    assert sum(series) == 12
    assert per_minute([[None, None, None], [], 0], now) == [0] * MINUTES


@pytest.fixture
async def own_redis() -> AsyncIterator[RedisServer]:
    """A Redis of this test's own: its command statistics count only the overview's."""
    found = find_redis_server()
    assert found is not None
    server = RedisServer(found[0])
    server.start()
    yield server
    server.cleanup()


async def _commands(client: Redis) -> dict[str, int]:
    stats = await client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}


async def test_overview_costs_the_same_commands_however_many_jobs_and_scans_no_keys(
    own_redis: RedisServer,
) -> None:
    config = create_queue_config(
        queues={
            f"q{index}": {"workers": {f"ping{index}": {"schema": Ping, "processor": ping}}}
            for index in range(5)
        },
        connection=own_redis.url,
        prefix="cost",
    )
    runtime = Runtime(config)
    client = Redis.from_url(own_redis.url, decode_responses=True)
    try:
        queues = sorted(config.queues)
        for _ in range(2):  # scripts loaded, connections open (the heartbeats' auto-pipelined
            await read_overview(runtime, queues)  # one keeps a pool connection: a second opens)
        spent: list[dict[str, int]] = []
        for jobs in (0, 2000):
            if jobs:
                async with client.pipeline(transaction=False) as pipe:
                    for index in range(jobs):
                        pipe.lpush("cost:q0:wait", str(index))
                        pipe.hset(f"cost:q0:{index}", mapping={"name": "ping", "data": "{}"})
                    await pipe.execute()
            await client.config_resetstat()
            overview = await read_overview(runtime, queues)
            calls = await _commands(client)
            calls.pop("config|resetstat", None)
            calls.pop("info", None)
            spent.append(calls)
            assert overview.queues[0].counts.waiting == jobs
        assert spent[0] == spent[1]
        assert not {"keys", "scan"} & set(spent[1])
        # sent: per queue 3 scripts, HEXISTS, HGETALL (the scripts' own LLEN, ZCARD... run inside)
        sent = {name: spent[1][name] for name in ("evalsha", "hexists", "hgetall")}
        assert sent == {"evalsha": 3 * len(queues), "hexists": len(queues), "hgetall": len(queues)}
    finally:
        await client.aclose()
        await runtime.close()
