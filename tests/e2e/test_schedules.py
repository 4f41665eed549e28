"""Job schedulers: declared ones upserted and removed on start, every scheduler kept firing.

The case (``tests/cases/schedules``) records each run in ``<prefix>:test:runs``.
Node BullMQ reads the schedulers we write and creates some of its own, which
only our workers serve.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from redis.asyncio import Redis

from bullmq_codegen.runtime import WorkerListener
from bullmq_codegen.runtime.schedules import ScheduleError, declared_schedules, sync_schedules
from bullmq_codegen.testing import RedisServer, RedisSource, find_redis_server
from bullmq_codegen.testing.node import node_bullmq

from ..helpers import generated_case, import_fresh, purge_modules

SCRIPT = Path(__file__).parent / "node" / "schedules.js"


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """Node BullMQ installed once into a cache directory (from the npm registry)."""
    modules = node_bullmq()
    if modules is None:
        pytest.skip("Node.js and npm (and the npm registry) are needed for the interop tests")
    return modules


@pytest.fixture
def tickers_root(tmp_path: Path) -> Iterator[Path]:
    yield generated_case("schedules", tmp_path, "tickers/jobs.py")
    purge_modules("tickers")


@pytest.fixture
async def tickers(tickers_root: Path, redis_env: RedisSource) -> AsyncIterator[ModuleType]:
    package = import_fresh(tickers_root, "tickers.generated")
    yield package
    await package.close_connections()


@pytest.fixture
async def raw(redis_env: RedisSource) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_env.url, decode_responses=True)
    yield client
    await client.aclose()


async def node(node_modules: Path, *args: str) -> Any:
    """Run ``schedules.js`` with ``args``; its JSON output."""
    done = await asyncio.to_thread(
        subprocess.run,
        ["node", str(SCRIPT), *args],
        env={**os.environ, "NODE_PATH": str(node_modules)},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def runs(raw: Redis, prefix: str) -> list[dict[str, Any]]:
    return [json.loads(row) for row in await raw.lrange(f"{prefix}:test:runs", 0, -1)]


def millis_of(scheduler_id: str, recorded: Sequence[dict[str, Any]]) -> list[int]:
    """The run times (from the job ids ``repeat:<id>:<millis>``) of one scheduler's jobs, sorted."""
    found = [
        int(run["id"].rsplit(":", 1)[1])
        for run in recorded
        if run["id"].startswith(f"repeat:{scheduler_id}:")
    ]
    return sorted(found)


def steps(millis: Sequence[int]) -> set[int]:
    return {later - earlier for earlier, later in itertools.pairwise(millis)}


async def test_declared_schedules_are_created_on_start_and_fire_with_validated_payloads(
    tickers: ModuleType, raw: Redis, prefix: str
) -> None:
    async with tickers.create_workers() as group:
        assert sorted(group.schedules["ticks"].written) == [
            "beat",
            "each-second",
            "half-second",
            "twice",
        ]
        repeat = f"{prefix}:ticks:repeat"
        half = await raw.hgetall(f"{repeat}:half-second")
        assert (half["name"], half["every"], half["ic"]) == ("tick", "500", "1")
        assert json.loads(half["data"]) == {"label": "half", "weightKg": 1}  # by alias
        # The queue's defaults, under the worker's, under the schedule's (bullmq's short keys).
        assert json.loads(half["opts"]) == {"removeOnFail": 50, "priority": 5, "kl": 10}
        cron = await raw.hgetall(f"{repeat}:each-second")
        assert (cron["pattern"], cron["tz"]) == ("*/1 * * * * *", "Europe/Paris")
        assert json.loads(cron["opts"]) == {
            "removeOnFail": 50,
            "priority": 5,
            "kl": 10,
            "attempts": 2,
            "removeOnComplete": 1000,
        }
        beat = await raw.hgetall(f"{repeat}:beat")
        assert "data" not in beat  # {} is not stored, as with Node
        assert json.loads(beat["opts"]) == {"removeOnFail": 50, "priority": 3}
        await asyncio.sleep(3.2)
    recorded = await runs(raw, prefix)
    half_runs = millis_of("half-second", recorded)
    cron_runs = millis_of("each-second", recorded)
    beat_runs = millis_of("beat", recorded)
    # at most one run per period (a loaded machine may start late: fewer is fine)
    assert 3 <= len(half_runs) <= 8, half_runs
    assert 1 <= len(cron_runs) <= 4, cron_runs
    assert 2 <= len(beat_runs) <= 6, beat_runs
    # One job per period, each run once.
    assert steps(half_runs) == {500}
    assert steps(cron_runs) == {1000}
    assert {m % 1000 for m in cron_runs} == {0}
    assert steps(beat_runs) == {700}
    assert len({run["id"] for run in recorded}) == len(recorded)
    labels = {run["label"] for run in recorded if run["name"] == "tick"}
    assert labels == {"half:1", "cron:2"}  # the processor got validated Tick payloads
    assert len(millis_of("twice", recorded)) == 2  # its limit
    async with tickers.create_workers() as group:  # a restart does not start it again
        assert "twice" in group.schedules["ticks"].unchanged
        await asyncio.sleep(0.7)
    assert len(millis_of("twice", await runs(raw, prefix))) == 2


async def test_restarting_leaves_unchanged_schedulers_alone(
    tickers: ModuleType, raw: Redis, prefix: str
) -> None:
    from tickers.generated.queues import runtime

    ctx = runtime.context("ticks")
    names = ["tick", "beat"]
    declared = declared_schedules(runtime.config, "ticks", names)
    first = await sync_schedules(ctx, declared)
    assert sorted(first.written) == ["beat", "each-second", "half-second", "twice"]
    before = await raw.zrange(f"{prefix}:ticks:repeat", 0, -1, withscores=True)
    delayed = await raw.zrange(f"{prefix}:ticks:delayed", 0, -1)
    waiting = await raw.lrange(f"{prefix}:ticks:wait", 0, -1)
    for _ in range(3):
        again = await sync_schedules(ctx, declared)
        assert (again.written, sorted(again.unchanged)) == (
            (),
            ["beat", "each-second", "half-second", "twice"],
        )
    assert await raw.zrange(f"{prefix}:ticks:repeat", 0, -1, withscores=True) == before
    assert await raw.zrange(f"{prefix}:ticks:delayed", 0, -1) == delayed
    assert await raw.lrange(f"{prefix}:ticks:wait", 0, -1) == waiting


async def test_a_scheduler_that_cannot_be_written_stops_the_start_and_is_named(
    tickers: ModuleType, raw: Redis, prefix: str
) -> None:
    await raw.set(f"{prefix}:ticks:repeat", "not a sorted set")
    group = tickers.create_workers(queues=["ticks"])
    with pytest.raises(
        ScheduleError,
        match=r"^cannot upsert job scheduler '(beat|half-second)' of job '(beat|tick)' in queue "
        r"'ticks': WRONGTYPE",
    ):
        await group.start()
    assert group.workers == {}


async def test_starting_while_redis_is_down_waits_for_it(
    tickers_root: Path, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = find_redis_server()
    if found is None:
        pytest.skip("needs a redis-server of its own")
    server = RedisServer(found[0])  # not started yet: Redis is down
    monkeypatch.setenv("BULLMQ_TEST_REDIS_URL", server.url)
    monkeypatch.setenv("BULLMQ_PREFIX", prefix)
    package = import_fresh(tickers_root, "tickers.generated")
    try:
        group = package.create_workers(queues=["ticks"])
        starting = asyncio.ensure_future(group.start())
        await asyncio.sleep(1.0)
        assert not starting.done()
        await asyncio.to_thread(server.start)
        await asyncio.wait_for(starting, 20)
        assert sorted(group.schedules["ticks"].written) == [
            "beat",
            "each-second",
            "half-second",
            "twice",
        ]
        await group.close()
    finally:
        await package.close_connections()
        server.cleanup()


async def test_a_removed_declaration_is_removed_and_other_names_are_untouched(
    tickers_root: Path,
    redis_env: RedisSource,
    raw: Redis,
    prefix: str,
    node_modules: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = redis_env.url
    await node(
        node_modules,
        "upsert",
        url,
        prefix,
        "ticks",
        "foreign",
        '{"every": 60000}',
        '{"name": "reportJob", "data": {"x": 1}}',
    )
    await node(
        node_modules,
        "upsert",
        url,
        prefix,
        "ticks",
        "node-tick",
        '{"every": 60000}',
        '{"name": "tick", "data": {"label": "node", "weightKg": 3}}',
    )
    full = import_fresh(tickers_root, "tickers.generated")
    async with full.create_workers():
        pass
    await full.close_connections()
    monkeypatch.setenv("SCHEDULES_VARIANT", "reduced")
    reduced = import_fresh(tickers_root, "tickers.generated")
    try:
        async with reduced.create_workers() as group:
            assert sorted(group.schedules["ticks"].removed) == ["beat", "each-second", "twice"]
            assert group.schedules["ticks"].unchanged == ("half-second",)
    finally:
        await reduced.close_connections()
    listed = await node(node_modules, "list", url, prefix, "ticks")
    # Node's schedulers stay, even the one whose jobs our "tick" worker runs.
    assert sorted(item["key"] for item in listed) == ["foreign", "half-second", "node-tick"]
    assert await raw.smembers(f"{prefix}:ticks:bcg-schedulers") == {"half-second"}
    assert not await raw.exists(f"{prefix}:ticks:repeat:each-second", f"{prefix}:ticks:repeat:beat")
    pending = await raw.zrange(f"{prefix}:ticks:delayed", 0, -1)
    assert not [job for job in pending if job.startswith(("repeat:each-second:", "repeat:beat:"))]


async def test_ten_groups_starting_at_once_create_each_scheduler_once(
    tickers: ModuleType, raw: Redis, prefix: str
) -> None:
    groups = [tickers.create_workers(queues=["ticks"]) for _ in range(10)]
    await asyncio.gather(*(group.start() for group in groups))
    try:
        await asyncio.sleep(3.0)
    finally:
        await asyncio.gather(*(group.close() for group in groups))
    assert await raw.zcard(f"{prefix}:ticks:repeat") == 4
    recorded = await runs(raw, prefix)
    assert len({run["id"] for run in recorded}) == len(recorded)  # no job ran twice
    half_runs = millis_of("half-second", recorded)
    assert 3 <= len(half_runs) <= 8, half_runs  # ten groups starting on a loaded machine
    assert steps(half_runs) == {500}  # never two jobs in one period
    assert steps(millis_of("each-second", recorded)) == {1000}
    assert steps(millis_of("beat", recorded)) == {700}
    assert len({run["pid"] for run in recorded}) == 1


async def test_node_lists_our_schedulers_as_it_lists_its_own(
    tickers: ModuleType, raw: Redis, prefix: str, redis_env: RedisSource, node_modules: Path
) -> None:
    from tickers.generated.queues import runtime

    names = ["tick", "beat"]
    await sync_schedules(
        runtime.context("ticks"), declared_schedules(runtime.config, "ticks", names)
    )
    template = {
        "name": "tick",
        "data": {"label": "half", "weightKg": 1},
        "opts": {"removeOnFail": 50, "priority": 5, "keepLogs": 10},
    }
    await node(
        node_modules,
        "upsert",
        redis_env.url,
        prefix,
        "ticks",
        "twin",
        '{"every": 500}',
        json.dumps(template),
    )
    cron_template = {
        **template,
        "data": {"label": "cron", "weightKg": 2},
        "opts": {**template["opts"], "attempts": 2, "removeOnComplete": 1000},
    }
    await node(
        node_modules,
        "upsert",
        redis_env.url,
        prefix,
        "ticks",
        "cron-twin",
        '{"pattern": "*/1 * * * * *", "tz": "Europe/Paris"}',
        json.dumps(cron_template),
    )
    listed = {
        item["key"]: item
        for item in await node(node_modules, "list", redis_env.url, prefix, "ticks")
    }
    ours, theirs = listed["half-second"], listed["twin"]
    volatile = ("key", "next", "offset")
    assert {k: v for k, v in ours.items() if k not in volatile} == {
        k: v for k, v in theirs.items() if k not in volatile
    }
    assert ours["template"] == {"data": template["data"], "opts": template["opts"]}
    ours, theirs = listed["each-second"], listed["cron-twin"]
    assert {k: v for k, v in ours.items() if k not in volatile} == {
        k: v for k, v in theirs.items() if k not in volatile
    }
    assert ours["next"] % 1000 == 0
    # The first jobs are stored alike too.
    for mine, node_id in (("half-second", "twin"), ("each-second", "cron-twin")):
        assert await _job_shape(raw, prefix, "ticks", mine) == await _job_shape(
            raw, prefix, "ticks", node_id
        )


async def test_our_workers_keep_node_schedulers_firing_as_node_workers_do(
    tickers: ModuleType, raw: Redis, prefix: str, redis_env: RedisSource, node_modules: Path
) -> None:
    url = redis_env.url
    for queue in ("nodeTicks", "nodeOnly"):
        await node(
            node_modules,
            "upsert",
            url,
            prefix,
            queue,
            "every-2s",
            '{"every": 2000}',
            '{"name": "fromNode", "data": {"n": 1}}',
        )
        await node(
            node_modules,
            "upsert",
            url,
            prefix,
            queue,
            "cron-1s",
            '{"pattern": "*/1 * * * * *"}',
            '{"name": "fromNode", "opts": {"attempts": 3}}',
        )
    # A Node worker serves "nodeOnly" while ours serve "nodeTicks", for the same 7 seconds.
    node_worker = asyncio.ensure_future(node(node_modules, "work", url, prefix, "nodeOnly", "7"))
    async with tickers.create_workers(queues=["nodeTicks"]):
        await asyncio.sleep(7.0)
    by_node = await node_worker
    recorded = await runs(raw, prefix)
    every_runs = millis_of("every-2s", recorded)
    cron_runs = millis_of("cron-1s", recorded)
    node_every = millis_of("every-2s", [{"id": job_id} for job_id in by_node])
    node_cron = millis_of("cron-1s", [{"id": job_id} for job_id in by_node])
    # ≈ one run per period over 7 s (the first at once for every, on the second for cron).
    # (Node's worker process starts in parallel, so on a loaded machine it may start later.)
    assert 2 <= len(every_runs) <= 5, every_runs
    assert 3 <= len(cron_runs) <= 8, cron_runs
    assert abs(len(every_runs) - len(node_every)) <= 2, (every_runs, node_every)
    assert abs(len(cron_runs) - len(node_cron)) <= 2, (cron_runs, node_cron)
    # From the second run on, one per period; the first waited for the workers to start,
    # so the next came at the next period still ahead, as with Node's worker.
    assert steps(every_runs[1:]) == {2000}
    assert steps(cron_runs[1:]) == {1000}
    assert steps(node_every[1:]) == {2000}
    # The jobs our workers added are stored as those Node's worker added.
    assert await _job_shape(
        raw, prefix, "nodeTicks", "every-2s", every_runs[1]
    ) == await _job_shape(raw, prefix, "nodeOnly", "every-2s", node_every[1])
    assert await _job_shape(raw, prefix, "nodeTicks", "cron-1s", cron_runs[2]) == await _job_shape(
        raw, prefix, "nodeOnly", "cron-1s", node_cron[2]
    )
    for queue in ("nodeTicks", "nodeOnly"):
        scheduler = await raw.hgetall(f"{prefix}:{queue}:repeat:every-2s")
        assert int(scheduler["ic"]) >= 3


async def test_a_scheduler_job_whose_next_run_cannot_be_added_still_runs(
    tickers: ModuleType, raw: Redis, prefix: str
) -> None:
    errors: list[BaseException] = []

    class Errors(WorkerListener):
        def on_error(self, queue: str, error: BaseException) -> None:
            errors.append(error)

    job = await tickers.enqueue_from_node(delay=300)
    legacy = "fromNode:abc::UTC:*/5 * * * *"  # a BullMQ 5 repeatable job's key
    await raw.hset(f"{prefix}:nodeTicks:{job.id}", "rjk", legacy)
    async with tickers.create_workers(queues=["nodeTicks"], listeners=[Errors()]):
        assert await job.wait_until_finished(timeout=10) is None
    assert [str(error) for error in errors] == [
        f"failed to add the next job of job scheduler {legacy!r} (after job {job.id!r}): "
        f"job {job.id!r} comes from legacy repeatable job {legacy!r}, which BullMQ 6 no longer "
        "schedules: migrate it to a job scheduler"
    ]


async def _job_shape(
    raw: Redis, prefix: str, queue: str, scheduler_id: str, millis: int | None = None
) -> dict[str, Any]:
    """A scheduler job's hash without what differs between two jobs (times, ids)."""
    if millis is None:
        millis = int(await raw.zscore(f"{prefix}:{queue}:repeat", scheduler_id) or 0)
    fields = await raw.hgetall(f"{prefix}:{queue}:repeat:{scheduler_id}:{millis}")
    assert fields, f"no job repeat:{scheduler_id}:{millis} in {queue}"
    opts = json.loads(fields.pop("opts"))
    for key in ("jobId", "repeatJobKey", "timestamp", "delay", "prevMillis"):
        opts[key] = "<volatile>" if key in opts else None
    opts["repeat"]["offset"] = "<volatile>" if "offset" in opts["repeat"] else None
    volatile = (
        "timestamp",
        "processedOn",
        "finishedOn",
        "rjk",
        "delay",
        "pb",
        "ats",
        "atm",
        "returnvalue",
    )
    shape = {key: value for key, value in fields.items() if key not in volatile}
    return {**shape, "opts": opts, "fields": sorted(fields)}


async def test_the_schedules_of_a_removed_worker_are_removed(
    tickers: ModuleType, raw: Redis, prefix: str
) -> None:
    from tickers.generated.queues import runtime

    ctx = runtime.context("ticks")
    first = await sync_schedules(ctx, declared_schedules(runtime.config, "ticks", ["tick", "beat"]))
    assert first.written
    # the next deploy has no worker declaring them: its start declares nothing here
    gone = await sync_schedules(ctx, [])
    assert sorted(gone.removed) == sorted(first.written)
    assert await raw.zcard(f"{prefix}:ticks:repeat") == 0
    assert await raw.scard(f"{prefix}:ticks:bcg-schedulers") == 0
