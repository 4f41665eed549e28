"""Redis Sentinel: generated producers and workers reach the master the sentinels name, and
go on through a failover (``SENTINEL FAILOVER``, then a ``kill -9`` of the master) under
load, without a restart.

A deployment of its own (a master, a replica and three sentinels on free ports,
:class:`~bullmq_codegen.testing.sentinel.SentinelDeployment`) serves the module.
The failover test prints its figures (``-s`` shows them): adds acknowledged and
jobs run, acknowledged jobs lost (what Redis's asynchronous replication can lose:
writes the old master acknowledged but had not passed on to the replica it lost to),
and the longest time without an acknowledged add around each failover.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from redis import Redis

from bullmq_codegen import DefinitionError, Job, create_queue_config
from bullmq_codegen.runtime.connection import SENTINEL_CHECK_SECONDS, describe_connection
from bullmq_codegen.testing import find_redis_server
from bullmq_codegen.testing.sentinel import SentinelDeployment

from ..helpers import eventually, generated_case, import_fresh, purge_modules

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def deployment() -> Iterator[SentinelDeployment]:
    if find_redis_server() is None:
        pytest.skip(
            "needs redis-server (its --sentinel mode runs the sentinels); ./dev installs it"
        )
    with SentinelDeployment(down_after_ms=1000) as started:
        yield started


@pytest.fixture
async def items(
    deployment: SentinelDeployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefix: str
) -> AsyncIterator[ModuleType]:
    monkeypatch.setenv("SENTINELS", ",".join(f"{h}:{p}" for h, p in deployment.addresses))
    monkeypatch.setenv("SENTINEL_SERVICE", deployment.service)
    monkeypatch.setenv("BULLMQ_PREFIX", prefix)
    root = generated_case("sentinel", tmp_path, "sn/jobs.py")
    package = import_fresh(root, "sn.generated")
    yield package
    await package.close_connections()
    purge_modules("sn")


async def test_jobs_flow_through_the_master_the_sentinels_name(
    items: ModuleType, deployment: SentinelDeployment, prefix: str
) -> None:
    from sn.jobs import Item, ran

    jobs = await items.enqueue_handle_bulk([Item(number=n) for n in range(50)])
    async with items.create_workers():
        results = [await job.wait_until_finished(timeout=20) for job in jobs]
        health = await items.get_worker_health()
    assert results == list(range(50))
    assert sorted(ran) == list(range(50))
    assert health["queues"]["items"]["alive"] == 1
    with Redis(port=deployment.master_port(), decode_responses=True) as master:
        assert master.zcard(f"{prefix}:items:completed") == 50


class _Load:
    """Producers adding numbered jobs until stopped, recording what was acknowledged when."""

    def __init__(self, package: ModuleType) -> None:
        self._package = package
        self._numbers = itertools.count()
        self.acked: dict[int, float] = {}
        self.job_ids: dict[int, str] = {}
        self.refused: dict[str, int] = {}
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, producers: int) -> None:
        self._tasks = [asyncio.create_task(self._produce()) for _ in range(producers)]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    async def _produce(self) -> None:
        from sn.jobs import Item

        while not self._stop.is_set():
            number = next(self._numbers)
            try:
                job = await self._package.enqueue_handle(Item(number=number))
            except Exception as error:  # told it failed: it may or may not have been added
                name = type(error).__name__
                self.refused[name] = self.refused.get(name, 0) + 1
                await asyncio.sleep(0.05)
            else:
                self.acked[number] = time.monotonic()
                self.job_ids[number] = job.id
                await asyncio.sleep(0.001)  # about a thousand adds a second in all

    def acked_after(self, moment: float) -> Callable[[], Awaitable[bool]]:
        """A check (for :func:`eventually`) that an add was acknowledged after ``moment``."""

        async def check() -> bool:
            return any(at > moment for at in self.acked.values())

        return check

    def longest_gap(self, start: float, end: float) -> float:
        """The longest time between acknowledged adds in ``[start, end]``."""
        times = sorted(t for t in self.acked.values() if start <= t <= end)
        edges = [start, *times, end]
        return max(later - earlier for earlier, later in itertools.pairwise(edges))


async def test_producers_and_workers_go_on_through_failovers(
    items: ModuleType, deployment: SentinelDeployment, prefix: str
) -> None:
    from sn.jobs import ran

    load = _Load(items)
    async with items.create_workers():
        started = time.monotonic()
        load.start(producers=2)
        await eventually(load.acked_after(0.0), timeout=30)
        manual = time.monotonic()
        await asyncio.to_thread(deployment.failover)
        promoted = time.monotonic()
        await asyncio.to_thread(deployment.wait_replicating)  # the old master turned replica
        demoted = time.monotonic()
        await eventually(load.acked_after(demoted + 1), timeout=30)
        killed = time.monotonic()
        await asyncio.to_thread(deployment.kill_master)
        replaced = time.monotonic()
        await eventually(load.acked_after(replaced + 1), timeout=30)
        await load.stop()
        stopped = time.monotonic()
        acked = set(load.acked)
        await _until_all_ran_or_idle(acked, ran)
        health = await items.get_worker_health()
    lost = sorted(acked - set(ran))
    dropped = sorted(acked - _kept_on_master(deployment, prefix, load.job_ids))
    after = {number for number, at in load.acked.items() if at > replaced}
    figures = {
        "acknowledged adds": len(acked),
        "adds per second": round(len(acked) / (stopped - started)),
        "adds told failed": load.refused,
        "acknowledged jobs never run (lost)": len(lost),
        "acknowledged jobs missing from the last master": len(dropped),
        "jobs run": len(ran),
        "run but told failed (in doubt)": len(set(ran) - acked),
        "run twice": sum(1 for count in ran.values() if count > 1),
        "SENTINEL FAILOVER: longest time without an ack (s)": round(
            load.longest_gap(manual, killed), 2
        ),
        "SENTINEL FAILOVER: old master turned replica after (s)": round(demoted - manual, 2),
        "kill -9: longest time without an ack (s)": round(load.longest_gap(killed, stopped), 2),
        "kill -9: sentinels promoted a replica after (s)": round(replaced - killed, 2),
    }
    print("\nsentinel failover figures:", figures)
    assert after  # producers went on
    assert after <= set(ran)  # acknowledged by the new master: every one ran
    assert health["queues"]["items"]["alive"] == 1  # the same worker, heartbeating on
    # what may be lost is what an old master acknowledged around its fall (the sentinels
    # are asked every SENTINEL_CHECK_SECONDS, so for about as long after a promotion)
    window = {
        number
        for number, at in load.acked.items()
        if manual <= at <= promoted + SENTINEL_CHECK_SECONDS + 1 or killed - 1 <= at <= replaced
    }
    assert set(lost) <= window
    assert set(dropped) <= window  # not a master's writes of many seconds (split brain)


def _kept_on_master(
    deployment: SentinelDeployment, prefix: str, job_ids: dict[int, str]
) -> set[int]:
    """The numbers whose job the last master holds (its data names the number: after a loss
    a later job may take a lost one's id)."""
    with Redis(port=deployment.master_port(), decode_responses=True) as master:
        pipe = master.pipeline(transaction=False)
        for job_id in job_ids.values():
            pipe.hget(f"{prefix}:items:{job_id}", "data")
        stored: list[str | None] = pipe.execute()
    return {
        number
        for number, data in zip(job_ids, stored, strict=True)
        if data is not None and json.loads(data)["number"] == number
    }


async def _until_all_ran_or_idle(acked: set[int], ran: Counter[int], idle: float = 5.0) -> None:
    """Wait until every acknowledged job ran, or none more ran for ``idle`` seconds (the
    rest were lost and never will)."""
    deadline = time.monotonic() + 120
    missing, since = -1, time.monotonic()
    while missing != 0:
        now = time.monotonic()
        if len(acked - ran.keys()) != missing:
            missing, since = len(acked - ran.keys()), now
        elif now - since > idle:
            return
        assert now < deadline, f"{missing} acknowledged jobs still running after 120 s"
        await asyncio.sleep(0.2)


def test_describe_connection_shows_the_sentinels_without_secrets() -> None:
    shown = describe_connection(
        {
            "sentinels": [("10.0.0.1", 26379), ("10.0.0.2", 26379)],
            "service": "mymaster",
            "password": "master-secret",
            "sentinel_password": "sentinel-secret",
        }
    )
    assert shown == "redis-sentinel://***@10.0.0.1:26379,10.0.0.2:26379/mymaster/0"


@pytest.mark.parametrize(
    ("connection", "message"),
    [
        ({"sentinels": [("127.0.0.1", 26379)]}, r"'sentinels' needs 'service'"),
        ({"service": "mymaster"}, r"'service' is for Redis Sentinel: give 'sentinels' too"),
        (
            {"sentinels": [("127.0.0.1", 26379)], "service": "m", "port": 6379},
            r"'port' does not go with 'sentinels'",
        ),
        ({"sentinels": [], "service": "m"}, r"'sentinels' is empty"),
        ({"sentinels": [["127.0.0.1", 26379]], "service": "m"}, r"connection.sentinels.0"),
    ],
)
def test_sentinel_options_are_checked_at_load(connection: object, message: str) -> None:
    async def work(job: Job[None]) -> None:
        return None

    with pytest.raises(DefinitionError, match=message):
        create_queue_config(
            queues={"q": {"workers": {"w": {"processor": work}}}},
            connection=connection,  # type: ignore[arg-type]
        )
