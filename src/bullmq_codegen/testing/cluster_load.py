"""Steady load on queues while something happens to Redis, and what became of every job.

Producers add jobs at a steady pace to each queue, each job carrying a token
of its own; workers run them and record the tokens they ran. A job is
*acknowledged* when its add returned (Redis said it was stored). At the end,
every acknowledged token that never ran is *lost*, and every token that ran
more than once ran *twice*. Tokens, not job ids, are counted: after a failover
that lost writes, a queue's id counter may hand out an id again.

Used by the cluster tests and by ``bench/cluster/faults.py``.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from redis.crc import key_slot

from ..definitions.config import QueueConfig, create_queue_config
from ..job import Job
from ..runtime.producer import Producer
from ..runtime.registry import Runtime
from ..runtime.routes import JobRoute
from .redis_cluster import LocalCluster

__all__ = [
    "LoadReport",
    "Token",
    "job_name",
    "load_config",
    "queue_slot",
    "queues_on_each_master",
    "run_load",
    "token_routes",
]


def job_name(queue: str) -> str:
    """The job name (and worker name) of the jobs of ``queue`` under load."""
    return f"token_{queue}"


_QUIET = 5.0
"""Seconds without a job run after which the jobs still missing count as lost."""


def queue_slot(config: QueueConfig, queue: str) -> int:
    """The hash slot of every key of ``queue``."""
    return key_slot(f"{config.prefix}:{config.redis_name(queue)}:wait".encode())


def queues_on_each_master(cluster: LocalCluster, prefix: str) -> list[str]:
    """Queue names (``q<n>``) whose own slots (``{q<n>}`` under an untagged ``prefix``) fall
    on each master of ``cluster``, one per master."""
    chosen: dict[int, str] = {}
    for index in range(10_000):
        name = f"q{index}"
        owner = cluster.master_of(key_slot(f"{prefix}:{{{name}}}:wait".encode())).port
        chosen.setdefault(owner, name)
        if len(chosen) == len(cluster.masters()):
            break
    return sorted(chosen.values())


async def _unused(job: Job[None]) -> None:
    """The processor the definitions name (workers under load run :func:`token_routes`)."""


def load_config(cluster: LocalCluster, queues: Sequence[str], prefix: str) -> QueueConfig:
    """Definitions of ``queues`` on ``cluster`` under ``prefix``, a job name per queue."""
    return create_queue_config(
        queues={queue: {"workers": {job_name(queue): {"processor": _unused}}} for queue in queues},
        connection={"host": "127.0.0.1", "port": cluster.seed_port, "cluster": True},
        prefix=prefix,
    )


class Token(BaseModel):
    """What a job under load carries: a number no other job has."""

    n: int


@dataclass
class LoadReport:
    """What became of the jobs added under load."""

    acknowledged: set[int] = field(default_factory=set[int])
    """Tokens whose add returned."""
    acknowledged_at: dict[int, float] = field(default_factory=dict[int, float])
    """Token → when its add returned (``time.monotonic()``)."""
    queue_of: dict[int, str] = field(default_factory=dict[int, str])
    """Token → the queue it was added to."""
    failed_adds: int = 0
    """Adds that raised (not acknowledged: the caller was told, and may add again)."""
    ran: collections.Counter[int] = field(default_factory=collections.Counter[int])
    """Token → how many times a worker ran it."""
    add_errors: collections.Counter[str] = field(default_factory=collections.Counter[str])
    """Kind of error → how many adds raised it."""
    seconds: float = 0.0
    """How long the load ran."""

    @property
    def lost(self) -> set[int]:
        """Acknowledged tokens that never ran."""
        return self.acknowledged - set(self.ran)

    @property
    def twice(self) -> set[int]:
        """Tokens that ran more than once."""
        return {token for token, times in self.ran.items() if times > 1}

    def summary(self) -> dict[str, int | float]:
        """The counts, for a log line or a table."""
        return {
            "acknowledged": len(self.acknowledged),
            "failed_adds": self.failed_adds,
            "ran": len(self.ran),
            "lost": len(self.lost),
            "ran_twice": len(self.twice),
            "seconds": round(self.seconds, 1),
        }


def token_routes(queues: Sequence[str], report: LoadReport) -> list[JobRoute[Any, Any, Any]]:
    """A worker per queue that records the token of every job it runs in ``report``."""

    async def record(job: Job[Token]) -> None:
        report.ran[job.payload.n] += 1

    return [
        JobRoute(queue=queue, name=job_name(queue), schema=Token, processor=record)
        for queue in queues
    ]


async def run_load(
    runtime: Runtime,
    queues: Sequence[str],
    *,
    seconds: float,
    adds_per_second: float = 200.0,
    during: Callable[[], Awaitable[None]] | None = None,
    settle: float = 30.0,
    report: LoadReport | None = None,
) -> LoadReport:
    """Add jobs to ``queues`` for ``seconds`` (``adds_per_second`` in all, spread over the
    queues) while workers run them, running ``during()`` alongside; then wait up to
    ``settle`` seconds for every acknowledged job to run (less if none runs for 5 s). The runtime's workers for
    ``queues`` must run :func:`token_routes` of the same ``report``."""
    report = report or LoadReport()
    tokens = itertools.count()
    producers = [Producer(runtime.queue(queue), job_name(queue), Token) for queue in queues]
    interval = len(queues) / adds_per_second
    stop = asyncio.Event()

    async def produce(producer: Producer[Token, Any, Any]) -> None:
        while not stop.is_set():
            token = next(tokens)
            report.queue_of[token] = producer.queue.name
            started = time.monotonic()
            try:
                await producer.enqueue(Token(n=token), {"removeOnComplete": True})
            except Exception as error:
                report.failed_adds += 1
                report.add_errors[type(error).__name__] += 1
            else:
                report.acknowledged.add(token)
                report.acknowledged_at[token] = time.monotonic()
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))

    started = time.monotonic()
    adding = [asyncio.ensure_future(produce(producer)) for producer in producers]
    try:
        if during is not None:
            await asyncio.gather(during(), asyncio.sleep(seconds))
        else:
            await asyncio.sleep(seconds)
    finally:
        stop.set()
        await asyncio.gather(*adding)
    report.seconds = time.monotonic() - started
    deadline = time.monotonic() + settle
    progress = (len(report.ran), time.monotonic())
    while report.lost and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        if len(report.ran) != progress[0]:
            progress = (len(report.ran), time.monotonic())
        elif time.monotonic() - progress[1] > _QUIET:
            break  # nothing ran for a while: what is left is lost
    return report
