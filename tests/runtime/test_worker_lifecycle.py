"""Workers over their life: listeners and counts, pause, close with a timeout, stalled
recovery by another worker, queue management."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator, Sequence

import pytest
from pydantic import BaseModel, ConfigDict, computed_field
from pydantic.alias_generators import to_camel

from bullmq_codegen import Job, create_queue_config
from bullmq_codegen.runtime import (
    JobInfo,
    JobNotFoundError,
    JobRoute,
    Producer,
    Runtime,
    WorkerListener,
    WorkerState,
)
from bullmq_codegen.testing import RedisSource

from ..helpers import eventually

GATE: dict[str, asyncio.Event] = {}
SEEN: list[str] = []


class Camel(BaseModel):
    """A payload whose wire names are camelCase, with a derived field."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
    user_id: int
    display_name: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def label(self) -> str:
        return f"{self.user_id}:{self.display_name}"


async def hold(job: Job[None]) -> str:
    """Waits until the test opens the gate of its job id."""
    SEEN.append(job.id)
    gate = GATE.setdefault(job.id, asyncio.Event())
    await gate.wait()
    return job.id


async def camel(job: Job[Camel]) -> Camel:
    return job.payload


async def boom(job: Job[None]) -> None:
    raise ValueError("boom")


class Recorder(WorkerListener):
    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def on_active(self, job: JobInfo) -> None:
        self.events.append(("active", job.id))

    def on_completed(self, job: JobInfo, duration: float) -> None:
        self.events.append(("completed", job.id))

    def on_failed(
        self, job: JobInfo, error: BaseException, *, will_retry: bool, duration: float
    ) -> None:
        self.events.append(("failed", (job.id, str(error), will_retry)))

    def on_stalled(self, queue: str, job_ids: Sequence[str]) -> None:
        self.events.append(("stalled", tuple(job_ids)))

    def on_state(self, queue: str, state: WorkerState) -> None:
        self.events.append(("state", state.value))


@pytest.fixture
async def runtime(redis: RedisSource, prefix: str) -> AsyncIterator[Runtime]:
    GATE.clear()
    SEEN.clear()
    config = create_queue_config(
        queues={
            "held": {
                "workers": {
                    "hold": {
                        "processor": hold,
                        "options": {"concurrency": 2, "lockDuration": 1000, "stalledInterval": 500},
                    }
                }
            },
            "camels": {"workers": {"camel": {"schema": Camel, "processor": camel}}},
            "failing": {
                "options": {"defaultJobOptions": {"attempts": 2}},
                "workers": {"boom": {"processor": boom}},
            },
        },
        connection=redis.url,
        prefix=prefix,
    )
    runtime = Runtime(config)
    yield runtime
    for gate in GATE.values():
        gate.set()
    await runtime.close()


ROUTES = (
    JobRoute(queue="held", name="hold", schema=None, processor=hold),
    JobRoute(queue="camels", name="camel", schema=Camel, processor=camel),
    JobRoute(queue="failing", name="boom", schema=None, processor=boom),
)


async def test_aliases_travel_and_computed_fields_do_not(runtime: Runtime) -> None:
    producer = Producer(runtime.queue("camels"), "camel", Camel)
    job = await producer.enqueue(Camel(user_id=7, display_name="Ada"), {})
    stored = await job.snapshot()
    assert stored is not None
    assert stored.data == {"userId": 7, "displayName": "Ada"}  # what a Node producer would send
    async with runtime.workers(ROUTES, queues=["camels"]):
        result = await job.wait_until_finished(timeout=10)
    # the result is stored as payloads travel: by alias, computed fields left out, so
    # it reads back as its type (Camel forbids extra keys)
    assert result == {"userId": 7, "displayName": "Ada"}
    typed = Producer(runtime.queue("camels"), "camel", Camel, camel)
    assert await typed.job(job.id).result() == Camel(user_id=7, display_name="Ada")


async def test_listeners_and_counts(runtime: Runtime) -> None:
    recorder = Recorder()
    failing = await Producer(runtime.queue("failing"), "boom", None).enqueue(None, {})
    held = await Producer(runtime.queue("held"), "hold", None).enqueue(None, {})
    GATE[held.id] = asyncio.Event()
    GATE[held.id].set()
    async with runtime.workers(ROUTES, queues=["failing", "held"], listeners=[recorder]) as group:
        await held.wait_until_finished(timeout=10)
        await eventually(lambda: _failed_twice(recorder), timeout=10)
        stats = {
            queue: {name: (s.completed, s.failed) for name, s in worker.stats().items()}
            for queue, worker in group.workers.items()
        }
    assert stats == {"failing": {"boom": (0, 2)}, "held": {"hold": (1, 0)}}
    assert ("completed", held.id) in recorder.events
    assert ("failed", (failing.id, "boom", True)) in recorder.events
    assert ("failed", (failing.id, "boom", False)) in recorder.events
    states = [value for kind, value in recorder.events if kind == "state"]
    assert states.count("running") == 2
    assert states.count("closed") == 2


async def _failed_twice(recorder: Recorder) -> bool:
    return sum(kind == "failed" for kind, _ in recorder.events) >= 2


async def test_a_listener_added_to_running_workers_hears_the_jobs_after(runtime: Runtime) -> None:
    # a job's events go to callbacks bound when listeners change: a late listener is bound too
    first, late = Recorder(), Recorder()
    producer = Producer(runtime.queue("held"), "hold", None)
    async with runtime.workers(ROUTES, queues=["held"], listeners=[first]) as group:
        before = await producer.enqueue(None, {})
        GATE.setdefault(before.id, asyncio.Event()).set()
        await before.wait_until_finished(timeout=10)
        await eventually(lambda: _heard(first, "completed", before.id), timeout=10)
        group.add_listener(late)
        after = await producer.enqueue(None, {})
        GATE.setdefault(after.id, asyncio.Event()).set()
        await after.wait_until_finished(timeout=10)
        await eventually(lambda: _heard(late, "completed", after.id), timeout=10)
    assert ("active", after.id) in late.events
    assert ("active", before.id) not in late.events
    assert ("completed", before.id) not in late.events
    assert {("active", after.id), ("completed", after.id)} <= set(first.events)


async def _heard(recorder: Recorder, kind: str, job_id: str) -> bool:
    return (kind, job_id) in recorder.events


async def test_close_with_a_timeout_leaves_running_jobs_to_the_stalled_check(
    runtime: Runtime,
) -> None:
    producer = Producer(runtime.queue("held"), "hold", None)
    job = await producer.enqueue(None, {})
    first = runtime.workers(ROUTES, queues=["held"])
    await first.start()
    await eventually(lambda: _seen(job.id), timeout=5)
    (result,) = await first.close(timeout=0.2)
    assert (result.graceful, [info.id for info in result.abandoned]) == (False, [job.id])
    assert await job.state() == "active"
    recorder = Recorder()
    second = runtime.workers(ROUTES, queues=["held"], listeners=[recorder])
    await second.start()
    # the lock (1000 ms) expires, a stalled check (every 500 ms) puts the job back, it runs again
    await eventually(lambda: _seen_twice(job.id), timeout=10)
    GATE[job.id].set()
    assert await job.wait_until_finished(timeout=10) == job.id
    assert ("stalled", (job.id,)) in recorder.events
    await second.close()


async def _seen(job_id: str) -> bool:
    return job_id in SEEN


async def _seen_twice(job_id: str) -> bool:
    return SEEN.count(job_id) >= 2


async def test_pause_and_resume_a_worker(runtime: Runtime) -> None:
    producer = Producer(runtime.queue("held"), "hold", None)
    async with runtime.workers(ROUTES, queues=["held"]) as group:
        worker = group.workers["held"]
        worker.pause()
        assert worker.state is WorkerState.PAUSED
        job = await producer.enqueue(None, {})
        GATE[job.id] = asyncio.Event()
        GATE[job.id].set()
        await asyncio.sleep(0.5)
        assert await job.state() == "waiting"
        worker.resume()
        assert await job.wait_until_finished(timeout=10) == job.id
    with pytest.raises(RuntimeError, match="already started"):
        worker.start()


async def test_queue_management(runtime: Runtime) -> None:
    queue = runtime.queue("held")
    producer = Producer(queue, "hold", None)
    await producer.enqueue_bulk([None] * 3, {})
    await producer.enqueue(None, {"delay": 60_000})
    await queue.pause()
    assert await queue.is_paused()
    async with runtime.workers(ROUTES, queues=["held"]):
        await asyncio.sleep(0.3)  # a paused queue gives its workers nothing
    assert SEEN == []
    await queue.resume()
    assert not await queue.is_paused()
    assert (await queue.counts()).waiting == 3
    await queue.drain()
    counts = await queue.counts()
    assert (counts.waiting, counts.delayed) == (0, 1)
    await queue.drain(delayed=True)
    assert (await queue.counts()).delayed == 0
    await queue.pause()
    await queue.obliterate()
    context = queue.context()
    assert await context.client.keys(context.keys[""] + "*") == []


async def test_waiting_for_a_job_removed_before_the_wait(runtime: Runtime) -> None:
    producer = Producer(runtime.queue("held"), "hold", None)
    job = await producer.enqueue(None, {"removeOnComplete": True})
    GATE[job.id] = asyncio.Event()
    GATE[job.id].set()
    async with runtime.workers(ROUTES, queues=["held"]):
        await eventually(lambda: _gone(runtime, job.id), timeout=10)
    assert await job.wait_until_finished(timeout=1) == job.id  # found in the event stream
    with pytest.raises(JobNotFoundError, match="no job nope in queue 'held'"):
        await runtime.queue("held").wait_until_finished("nope", timeout=1)


async def _gone(runtime: Runtime, job_id: str) -> bool:
    return await runtime.queue("held").get_job(job_id) is None


async def test_close_connections_closes_groups_nobody_kept(runtime: Runtime) -> None:
    await runtime.workers(ROUTES, queues=["held"]).start()
    gc.collect()
    await runtime.close()
    names = {task.get_name() for task in asyncio.all_tasks()}
    assert not any("held" in name for name in names), names


async def test_a_stopped_fetcher_ends_its_blocking_wait_even_if_the_cancellation_is_lost(
    runtime: Runtime,
) -> None:
    """On Python 3.11 a cancellation landing as redis-py writes a command is lost (the
    wait then lasted a whole block, 10 s, so closing right after starting could hang).
    Here the loss is certain: the blocking client shields its BZPOPMIN from cancellation,
    on a real Redis; the fetcher must end the wait from Redis's side."""
    from bullmq_codegen.runtime.connection import blocking_client
    from bullmq_codegen.runtime.worker.fetcher import JobFetcher
    from bullmq_codegen.runtime.worker.settings import QueueWorkerSettings

    real = blocking_client(runtime.connection())
    started_blocking = asyncio.Event()

    class LosesCancellations:
        async def client_id(self) -> int:
            return int(await real.client_id())

        async def bzpopmin(self, key: str, timeout: float) -> object:
            call = asyncio.ensure_future(real.bzpopmin(key, timeout))
            started_blocking.set()
            while True:
                try:
                    return await asyncio.shield(call)
                except asyncio.CancelledError:  # lost, as redis-py loses it on 3.11
                    current = asyncio.current_task()
                    assert current is not None
                    current.uncancel()

    ctx = runtime.context("held")
    fetcher = JobFetcher(ctx, LosesCancellations(), QueueWorkerSettings(drain_delay=10), print)  # type: ignore[arg-type]
    try:
        assert await fetcher.move_to_active("token") is None  # the queue is empty: drained
        waiting = asyncio.ensure_future(fetcher.next("token"))
        await started_blocking.wait()
        await asyncio.sleep(0.2)  # BZPOPMIN is blocked in Redis now
        started = time.monotonic()
        fetcher.stop()
        assert await waiting is None
        assert time.monotonic() - started < 5  # ended by CLIENT UNBLOCK, not the 10 s block
    finally:
        await real.aclose()
