"""One event-stream reader per queue and loop: waiting for results, following a job's
progress and states, queue listeners; against a real Redis."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bullmq_codegen import Job, create_queue_config
from bullmq_codegen.runtime import JobFailedError, JobNotFoundError, JobRoute, Producer, Runtime
from bullmq_codegen.runtime.events import (
    EventsClosedError,
    JobActive,
    JobCompleted,
    JobEvent,
    JobFailed,
    JobProgressed,
    JobStalled,
    JobWaiting,
    reader,
)
from bullmq_codegen.testing import RedisServer, RedisSource, find_redis_server

from ..helpers import eventually

GATE: dict[str, asyncio.Event] = {}


async def echo(job: Job[None]) -> dict[str, str]:
    return {"id": job.id}


async def steps(job: Job[None]) -> str:
    """Reports progress 1, 2, 3 once the test opens its gate."""
    await GATE.setdefault(job.id, asyncio.Event()).wait()
    for step in (1, 2, 3):
        await job.update_progress(step)
    return "done"


async def boom(job: Job[None]) -> None:
    raise ValueError("boom")


ROUTES = (
    JobRoute(queue="main", name="echo", schema=None, processor=echo),
    JobRoute(queue="main", name="steps", schema=None, processor=steps),
    JobRoute(queue="main", name="boom", schema=None, processor=boom),
)


def make_runtime(url: str, prefix: str) -> Runtime:
    return Runtime(
        create_queue_config(
            queues={
                "main": {
                    "options": {"defaultJobOptions": {"attempts": 2}},
                    "workers": {
                        "echo": {"processor": echo},
                        "steps": {"processor": steps},
                        "boom": {
                            "processor": boom,
                            "options": {"lockDuration": 1000, "stalledInterval": 500},
                        },
                    },
                },
                "other": {"workers": {"other": {"processor": echo}}},
            },
            connection=url,
            prefix=prefix,
        )
    )


@pytest.fixture
async def runtime(redis: RedisSource, prefix: str) -> AsyncIterator[Runtime]:
    GATE.clear()
    runtime = make_runtime(redis.url, prefix)
    yield runtime
    for gate in GATE.values():
        gate.set()
    await runtime.close()


def producer(runtime: Runtime, name: str) -> Producer[None]:
    return Producer(runtime.queue("main"), name, None)


async def test_a_waiter_gets_the_result_as_json_text(runtime: Runtime) -> None:
    queue = runtime.queue("main")
    job = await producer(runtime, "echo").enqueue(None, {})
    waiting = asyncio.create_task(queue.wait_for_result(job.id, timeout=10))
    await eventually(lambda: _watched(runtime, 1))  # registered before the job runs
    async with runtime.workers(ROUTES):
        assert json.loads(await waiting) == {"id": job.id}
        assert await queue.wait_until_finished(job.id, timeout=1) == {"id": job.id}  # from the hash


async def test_a_job_removed_on_completion_before_the_wait_still_resolves(
    runtime: Runtime,
) -> None:
    job = await producer(runtime, "echo").enqueue(None, {"removeOnComplete": True})
    async with runtime.workers(ROUTES):
        await eventually(lambda: _gone(runtime, job.id))
    assert await runtime.queue("main").wait_for_result(job.id, timeout=1) == json.dumps(
        {"id": job.id}, separators=(",", ":")
    )


async def test_a_failure_for_good_raises_with_reason_and_attempts(runtime: Runtime) -> None:
    queue = runtime.queue("main")
    kept = await producer(runtime, "boom").enqueue(None, {})
    removed = await producer(runtime, "boom").enqueue(None, {"removeOnFail": True})
    once = await producer(runtime, "boom").enqueue(None, {"attempts": 1})
    waits = [
        asyncio.create_task(queue.wait_for_result(job.id, timeout=10))
        for job in (kept, removed, once)
    ]
    await eventually(lambda: _watched(runtime, 3))
    async with runtime.workers(ROUTES):
        outcomes = await asyncio.gather(*waits, return_exceptions=True)
    assert all(isinstance(outcome, JobFailedError) for outcome in outcomes), outcomes
    errors = [outcome for outcome in outcomes if isinstance(outcome, JobFailedError)]
    assert [(e.queue, e.job_id, e.reason, e.attempts_made) for e in errors] == [
        ("main", kept.id, "boom", 2),  # the retried attempt was not taken for the outcome
        ("main", removed.id, "boom", 2),  # from the retries-exhausted entry: the hash is gone
        ("main", once.id, "boom", 1),
    ]
    with pytest.raises(JobFailedError, match=f"job {kept.id} of queue 'main' failed after 2"):
        await queue.wait_for_result(kept.id, timeout=1)  # already failed: from the hash


async def test_a_timeout_leaves_the_job_alone(runtime: Runtime) -> None:
    queue = runtime.queue("main")
    job = await producer(runtime, "echo").enqueue(None, {})
    with pytest.raises(TimeoutError, match=f"job {job.id} of queue 'main' did not finish in 0.3 s"):
        await queue.wait_for_result(job.id, timeout=0.3)
    assert await job.state() == "waiting"
    assert runtime.events("main").watched == 0
    async with runtime.workers(ROUTES):
        assert await queue.wait_until_finished(job.id, timeout=10) == {"id": job.id}


async def test_no_such_job(runtime: Runtime) -> None:
    queue = runtime.queue("main")
    with pytest.raises(JobNotFoundError, match="no job nope in queue 'main'"):
        await queue.wait_for_result("nope", timeout=1)
    with pytest.raises(JobNotFoundError, match="no job nope in queue 'main'"):
        async for _event in queue.job_events("nope"):
            pass


async def test_a_job_removed_while_waited_for(runtime: Runtime) -> None:
    queue = runtime.queue("main")
    job = await producer(runtime, "echo").enqueue(None, {})
    waiting = asyncio.create_task(queue.wait_for_result(job.id, timeout=10))
    await eventually(lambda: _watched(runtime, 1))
    await queue.context().backend.scripts.remove(job.id, False)
    with pytest.raises(JobNotFoundError, match="was removed before it finished"):
        await waiting


async def _client_count(url: str) -> tuple[int, list[str]]:
    observer = Redis.from_url(url, decode_responses=True)
    try:
        clients = await observer.client_list()
        names = [client["name"] for client in clients if client["name"]]
        return len(clients) - 1, names
    finally:
        await observer.aclose()


async def test_a_thousand_waiters_use_one_reader_connection(
    runtime: Runtime, redis: RedisSource, prefix: str
) -> None:
    if redis.shared:
        pytest.skip("counts connections: needs the suite's own Redis, not REDIS_URL")
    before, _ = await _client_count(redis.url)
    jobs = await producer(runtime, "echo").enqueue_bulk([None] * 1000, {})
    queue = runtime.queue("main")
    waits = [asyncio.create_task(queue.wait_for_result(job.id, timeout=30)) for job in jobs]
    await eventually(lambda: _watched(runtime, 1000))
    during, names = await _client_count(redis.url)
    # the loop's command connection (auto-pipelined) and the queue's one event reader, named
    # as Node names a queue-events reader (<prefix>:<base64("main")>:qe)
    assert during - before == 2
    assert names.count(f"{prefix}:bWFpbg==:qe") == 1
    async with runtime.workers(ROUTES):
        results = await asyncio.gather(*waits)
    assert [json.loads(result) for result in results] == [{"id": job.id} for job in jobs]


async def test_the_reader_stops_when_nobody_needs_it_and_on_close(
    runtime: Runtime, redis: RedisSource, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "LINGER_SECONDS", 0.1)
    queue = runtime.queue("main")
    job = await producer(runtime, "echo").enqueue(None, {})
    async with runtime.workers(ROUTES):
        await queue.wait_for_result(job.id, timeout=10)
        assert runtime.events("main").following  # lingers a moment for the next waiter
        await eventually(lambda: _stopped(runtime))
    assert f"{prefix}:bWFpbg==:qe" not in (await _client_count(redis.url))[1]
    # a waiter when the connections close is told so
    held = await producer(runtime, "echo").enqueue(None, {})
    waiting = asyncio.create_task(queue.wait_for_result(held.id, timeout=10))
    await eventually(lambda: _watched(runtime, 1))
    await runtime.close()
    with pytest.raises(EventsClosedError):
        await waiting


async def test_the_reader_reconnects_without_losing_waiters(
    runtime: Runtime, redis: RedisSource, prefix: str
) -> None:
    queue = runtime.queue("main")
    job = await producer(runtime, "echo").enqueue(None, {})
    waiting = asyncio.create_task(queue.wait_for_result(job.id, timeout=20))
    await eventually(lambda: _watched(runtime, 1))
    admin = Redis.from_url(redis.url, decode_responses=True)
    try:
        clients = await admin.client_list()
        (reader_client,) = [c for c in clients if c["name"] == f"{prefix}:bWFpbg==:qe"]
        await admin.client_kill_filter(_id=reader_client["id"])
        async with runtime.workers(ROUTES):  # completes while the reader reconnects
            assert json.loads(await waiting) == {"id": job.id}
        (again,) = [c for c in await admin.client_list() if c["name"] == f"{prefix}:bWFpbg==:qe"]
        assert again["id"] != reader_client["id"]
    finally:
        await admin.aclose()


async def test_waiters_and_listeners_outlive_a_redis_restart(tmp_path: Path, prefix: str) -> None:
    found = find_redis_server()
    if found is None:
        pytest.skip("a redis-server binary is needed to restart Redis")
    server = RedisServer(found[0], directory=tmp_path, persistent=True)
    server.start()
    runtime = make_runtime(server.url, prefix)
    try:
        queue = runtime.queue("main")
        job = await producer(runtime, "echo").enqueue(None, {})
        waiting = asyncio.create_task(queue.wait_for_result(job.id, timeout=30))
        await eventually(lambda: _watched(runtime, 1))
        listener = Listener()
        subscription = queue.subscribe(listener)
        await subscription.ready()
        await asyncio.to_thread(server.stop)
        await asyncio.sleep(0.3)  # the reader's read fails; it keeps its waiter and listener
        await asyncio.to_thread(server.start)
        async with runtime.workers(ROUTES):
            assert json.loads(await waiting) == {"id": job.id}
            await eventually(lambda: _len(listener.completed, 1))
        assert listener.completed[0].job_id == job.id
        await subscription.close()
    finally:
        await runtime.close()
        server.cleanup()


async def test_job_events_yield_progress_in_order_and_end_on_completion(
    runtime: Runtime,
) -> None:
    queue = runtime.queue("main")
    job = await producer(runtime, "steps").enqueue(None, {})
    seen: list[JobEvent] = []

    async def follow() -> None:
        async for event in queue.job_events(job.id):
            seen.append(event)

    following = asyncio.create_task(follow())
    await eventually(lambda: _watched(runtime, 1))
    async with runtime.workers(ROUTES):
        await eventually(lambda: _has(seen, JobActive))
        GATE[job.id].set()
        await asyncio.wait_for(following, 10)
    assert [type(event) for event in seen] == [
        JobActive,
        JobProgressed,
        JobProgressed,
        JobProgressed,
        JobCompleted,
    ]
    assert [event.data for event in seen if isinstance(event, JobProgressed)] == [1, 2, 3]
    assert [event.data_json for event in seen if isinstance(event, JobProgressed)] == list("123")
    assert seen[-1] == JobCompleted(job.id, "steps", '"done"')
    assert all(event.job_id == job.id and event.name == "steps" for event in seen)
    # a finished job yields its outcome alone
    assert [event async for event in queue.job_events(job.id)] == [seen[-1]]


async def test_job_events_report_retries_and_the_final_failure(runtime: Runtime) -> None:
    job = await producer(runtime, "boom").enqueue(None, {})
    events = runtime.queue("main").job_events(job.id)
    first = asyncio.create_task(anext(events))
    await eventually(lambda: _watched(runtime, 1))
    async with runtime.workers(ROUTES):
        seen = [await first, *[event async for event in events]]
    assert [type(event) for event in seen] == [JobActive, JobWaiting, JobActive, JobFailed]
    assert seen[1] == JobWaiting(job.id, "boom", "active")  # the retry
    assert seen[-1] == JobFailed(job.id, "boom", "boom", 2)


async def test_job_events_close_early(runtime: Runtime) -> None:
    job = await producer(runtime, "steps").enqueue(None, {})
    events = runtime.queue("main").job_events(job.id)
    first = asyncio.create_task(anext(events))
    await eventually(lambda: _watched(runtime, 1))
    async with runtime.workers(ROUTES):
        assert isinstance(await first, JobActive)
        await events.aclose()
        assert runtime.events("main").watched == 0
        GATE[job.id].set()


class Listener:
    def __init__(self) -> None:
        self.completed: list[JobCompleted] = []
        self.failed: list[JobFailed] = []
        self.progress: list[JobProgressed] = []
        self.stalled: list[JobStalled] = []

    async def on_completed(self, event: JobCompleted) -> None:
        await asyncio.sleep(0)
        self.completed.append(event)

    def on_failed(self, event: JobFailed) -> None:
        self.failed.append(event)

    def on_progress(self, event: JobProgressed) -> None:
        self.progress.append(event)
        raise RuntimeError("a listener's bug")  # logged; the events go on

    def on_stalled(self, event: JobStalled) -> None:
        self.stalled.append(event)


async def test_a_listener_hears_completed_failed_progress_and_stalled(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    listener = Listener()
    queue = runtime.queue("main")
    async with queue.subscribe(listener) as subscription:
        echoed = await producer(runtime, "echo").enqueue(None, {"removeOnComplete": True})
        stepped = await producer(runtime, "steps").enqueue(None, {})
        failed = await producer(runtime, "boom").enqueue(None, {"attempts": 1})
        GATE[stepped.id] = asyncio.Event()
        GATE[stepped.id].set()
        async with runtime.workers(ROUTES):
            await eventually(lambda: _len(listener.completed, 2))
            await eventually(lambda: _len(listener.failed, 1))
        progress = list(listener.progress)
        stalled = await _stall_a_job(runtime, listener)
    assert subscription.closing()
    assert runtime.events("main").listeners == 0
    by_id = {event.job_id: event for event in listener.completed}
    assert by_id[echoed.id].name is None  # removed on completion: its name is gone with it
    assert by_id[echoed.id].return_value == {"id": echoed.id}
    assert by_id[stepped.id] == JobCompleted(stepped.id, "steps", '"done"')
    assert listener.failed == [JobFailed(failed.id, "boom", "boom", 1)]
    assert [(event.name, event.data) for event in progress] == [("steps", n) for n in (1, 2, 3)]
    assert listener.stalled == [JobStalled(stalled, "steps")]
    assert "a listener's bug" in caplog.text


async def _stall_a_job(runtime: Runtime, listener: Listener) -> str:
    """A job whose worker let go of it without finishing: the next worker's stalled check
    finds it once its lock expires (``lockDuration`` 1 s)."""
    job = await producer(runtime, "steps").enqueue(None, {})
    first = runtime.workers(ROUTES)
    await first.start()
    await eventually(lambda: _state(runtime, job.id, "active"))
    await first.close(timeout=0.1)  # abandons the running job, its lock left to expire
    async with runtime.workers(ROUTES):
        await eventually(lambda: _len(listener.stalled, 1), timeout=10)
        GATE[job.id].set()
    return job.id


async def test_a_listener_without_methods_is_refused(runtime: Runtime) -> None:
    with pytest.raises(TypeError, match="has none of the methods on_completed, on_failed"):
        runtime.queue("main").subscribe(object())


async def _watched(runtime: Runtime, count: int) -> bool:
    return runtime.events("main").watched == count


async def _stopped(runtime: Runtime) -> bool:
    return not runtime.events("main").following


async def _gone(runtime: Runtime, job_id: str) -> bool:
    return await runtime.queue("main").get_job(job_id) is None


async def _has(seen: list[JobEvent], kind: type[JobEvent]) -> bool:
    return any(isinstance(event, kind) for event in seen)


async def _len(items: list[object], count: int) -> bool:
    return len(items) >= count


async def _state(runtime: Runtime, job_id: str, state: str) -> bool:
    return await runtime.queue("main").get_job_state(job_id) == state


async def test_closing_the_reader_does_not_wait_for_a_read_whose_cancellation_is_lost(
    runtime: Runtime,
) -> None:
    """On Python 3.11 a cancellation landing as redis-py writes a command is lost; here it
    always is (the XREAD shields itself, on a real Redis): closing must not wait it out."""
    from bullmq_codegen.runtime.connection import blocking_client
    from bullmq_codegen.runtime.events import EventReader, Subscription

    reading = asyncio.Event()

    class LosesCancellations:
        def __init__(self) -> None:
            self.real: Redis = blocking_client(runtime.connection())
            self.connection_pool = self.real.connection_pool

        async def xrevrange(self, stream: str, count: int) -> object:
            return await self.real.xrevrange(stream, count=count)

        async def xread(self, streams: dict[str, str], count: int, block: int) -> object:
            call = asyncio.ensure_future(self.real.xread(streams, count=count, block=block))
            reading.set()
            while True:
                try:
                    return await asyncio.shield(call)
                except asyncio.CancelledError:  # lost, as redis-py loses it on 3.11
                    current = asyncio.current_task()
                    assert current is not None
                    current.uncancel()

        async def aclose(self) -> None:
            await self.real.aclose()

    ctx = runtime.context("main")
    reader = EventReader(
        queue="main",
        stream=ctx.keys["events"],
        connect=LosesCancellations,  # type: ignore[arg-type]
        client_name="test-events",
    )
    subscription = Subscription(reader, ctx.pipeline, ctx.keys[""], Listener())
    await subscription.ready()
    await reading.wait()
    await asyncio.sleep(0.2)  # XREAD is blocked in Redis now (for 10 s)
    started = time.monotonic()
    await reader.close()
    assert time.monotonic() - started < 5


async def test_a_waiter_hears_an_outcome_trimmed_from_the_stream_during_an_outage(
    runtime: Runtime,
) -> None:
    """While the reader cannot read, the job completes and the stream is trimmed past its
    entry: once reading again, the waiter learns the outcome from the job's hash."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    from bullmq_codegen.runtime.connection import blocking_client
    from bullmq_codegen.runtime.events import EventReader, JobWatch

    outage = asyncio.Event()
    failed_reads = 0

    class Flaky:
        def __init__(self) -> None:
            self.real: Redis = blocking_client(runtime.connection())
            self.connection_pool = self.real.connection_pool

        async def xrevrange(self, stream: str, count: int) -> object:
            return await self.real.xrevrange(stream, count=count)

        async def xread(self, streams: dict[str, str], count: int, block: int) -> object:
            nonlocal failed_reads
            if outage.is_set():
                failed_reads += 1
                await asyncio.sleep(0.05)
                raise RedisConnectionError("Redis is away (test)")
            return await self.real.xread(streams, count=count, block=200)

        async def aclose(self) -> None:
            await self.real.aclose()

    job = await Producer(runtime.queue("main"), "echo", None).enqueue(None, {})
    ctx = runtime.context("main")
    reader = EventReader(
        queue="main",
        stream=ctx.keys["events"],
        connect=Flaky,
        client_name="test-events",  # type: ignore[arg-type]
    )
    watch = JobWatch(
        reader, ctx.pipeline, job_id=job.id, job_key=ctx.job_key(job.id), keep_all=False
    )
    try:
        assert await watch.start()
        outage.set()
        await eventually(lambda: _true(failed_reads > 0))
        async with runtime.workers(ROUTES, queues=["main"]):
            assert await job.wait_until_finished(timeout=10) == {"id": job.id}
        await ctx.client.xtrim(ctx.keys["events"], maxlen=0)  # its entries are gone
        outage.clear()
        final = await asyncio.wait_for(watch.final(), 10)
        assert isinstance(final, JobCompleted)
        assert json.loads(final.return_json) == {"id": job.id}
    finally:
        watch.close()
        await reader.close()


async def _true(value: bool) -> bool:
    return value
