"""Queue control (list, clean, retry, promote, remove) against a real Redis, read back by Node.

Each operation runs on a queue whose jobs Node BullMQ also sees: after ours,
Node's ``getJobCounts``, ``getJob().getState()``, ``getJobs`` and a Node worker
read the state we left.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bullmq_codegen import create_queue_config
from bullmq_codegen.runtime import JobNotFoundError, Producer, QueueHandle, Runtime
from bullmq_codegen.runtime.control import JobLockedError, JobStateError
from bullmq_codegen.testing import RedisSource
from bullmq_codegen.testing.node import node_bullmq

from ..cases_support import Ping, ping

SCRIPT = Path(__file__).parent / "node" / "control.js"


@pytest.fixture(scope="session")
def node_modules() -> Path:
    modules = node_bullmq()
    if modules is None:
        pytest.skip("Node.js and npm (and the npm registry) are needed for the interop checks")
    return modules


class Node:
    """Runs ``control.js`` on the test's queue."""

    def __init__(self, modules: Path, url: str, prefix: str) -> None:
        self.env = {**os.environ, "NODE_PATH": str(modules)}
        self.base = [url, prefix, "pings"]

    def start(self, command: str, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            ["node", str(SCRIPT), command, *self.base, *args],
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    async def __call__(self, command: str, *args: str) -> Any:
        process = self.start(command, *args)
        out, err = await asyncio.to_thread(process.communicate, timeout=60)
        assert process.returncode == 0, err
        return json.loads(out)

    async def states(self, *ids: str) -> dict[str, Any]:
        return dict(await self("counts", *ids))


@pytest.fixture
def node(node_modules: Path, redis: RedisSource, prefix: str) -> Node:
    return Node(node_modules, redis.url, prefix)


@pytest.fixture
async def runtime(redis: RedisSource, prefix: str) -> AsyncIterator[Runtime]:
    config = create_queue_config(
        queues={"pings": {"workers": {"ping": {"schema": Ping, "processor": ping}}}},
        connection=redis.url,
        prefix=prefix,
    )
    runtime = Runtime(config)
    yield runtime
    await runtime.close()


@pytest.fixture
def queue(runtime: Runtime) -> QueueHandle:
    return runtime.queue("pings")


@pytest.fixture
def producer(queue: QueueHandle) -> Producer[Ping]:
    return Producer(queue, "ping", Ping)


async def add(producer: Producer[Ping], count: int, **options: Any) -> list[str]:
    return [(await producer.enqueue(Ping(host=f"h{i}"), options)).id for i in range(count)]


async def test_jobs_are_listed_in_pages_as_node_lists_them(
    queue: QueueHandle, producer: Producer[Ping], node: Node
) -> None:
    ids = await add(producer, 7)
    newest = await queue.jobs("waiting", count=3)
    assert [job.id for job in newest] == ids[::-1][:3] == await node("jobs", "wait", "0", "2", "")
    assert [job.id for job in await queue.jobs("waiting", start=3, count=3)] == ids[::-1][3:6]
    oldest = await queue.jobs("waiting", count=2, asc=True)
    assert [job.id for job in oldest] == ids[:2] == await node("jobs", "wait", "0", "1", "true")
    first = oldest[0]
    assert (first.name, first.data_json, first.return_json, first.stacktrace) == (
        "ping",
        '{"host":"h0"}',
        None,
        [],
    )
    delayed = await add(producer, 2, delay=60_000)
    mixed = await queue.jobs(["delayed", "waiting"], count=1)
    assert [job.id for job in mixed] == [delayed[-1], ids[-1]]


async def test_finished_jobs_show_results_failures_and_attempts(
    queue: QueueHandle, producer: Producer[Ping], node: Node
) -> None:
    (done,) = await add(producer, 1)
    assert await node("run", "1", "ok") == [done]
    (failed,) = await add(producer, 1)
    assert await node("run", "1", "fail") == [failed]
    (completed,) = await queue.jobs("completed")
    assert completed.id == done
    assert json.loads(completed.return_json or "") == {"by": "node", "id": done}
    assert completed.attempts_started == 1
    (lost,) = await queue.jobs("failed")
    assert (lost.id, lost.failed_reason) == (failed, f"node failed {failed}")
    assert len(lost.stacktrace) == 1
    assert f"node failed {failed}" in lost.stacktrace[0]


async def test_unknown_states_and_bad_pages_are_refused(queue: QueueHandle) -> None:
    with pytest.raises(ValueError, match=r"unknown job state 'done'.*use one of waiting, active"):
        await queue.jobs("done")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="start must be >= 0 and count >= 1, not 0 and 0"):
        await queue.jobs("waiting", count=0)
    with pytest.raises(ValueError, match="clean: unknown job state 'waiting-children'"):
        await queue.clean("waiting-children", grace_ms=0)  # type: ignore[arg-type]


async def test_retry_failed_moves_every_failed_job_to_wait(
    queue: QueueHandle, producer: Producer[Ping], node: Node
) -> None:
    ids = await add(producer, 5)
    assert sorted(await node("run", "5", "fail")) == sorted(ids)
    assert await queue.retry_failed(count=2) == 5
    seen = await node.states(*ids)
    assert seen["counts"]["failed"] == 0
    assert seen["counts"]["waiting"] == 5
    assert set(seen["states"].values()) == {"waiting"}
    assert await queue.retry_failed() == 0


async def test_retry_job_moves_one_failed_job_and_names_wrong_states(
    queue: QueueHandle, producer: Producer[Ping], node: Node
) -> None:
    first, second = await add(producer, 2)
    await node("run", "2", "fail")
    await queue.retry_job(first)
    seen = await node.states(first, second)
    assert seen["states"] == {first: "waiting", second: "failed"}
    with pytest.raises(JobStateError, match=f"cannot retry job {first} of queue 'pings': it is "):
        await queue.retry_job(first)
    with pytest.raises(JobNotFoundError, match="no job nope in queue 'pings'"):
        await queue.retry_job("nope")
    assert await node("run", "1", "ok") == [first]


async def test_promote_job_runs_one_delayed_job_now(
    queue: QueueHandle, producer: Producer[Ping], node: Node
) -> None:
    later, soon = await add(producer, 2, delay=3_600_000)
    await queue.promote_job(soon)
    seen = await node.states(later, soon)
    assert seen["states"] == {later: "delayed", soon: "waiting"}
    assert await node("run", "1", "ok") == [soon]
    with pytest.raises(JobStateError, match=f"job {soon} of queue 'pings': it is completed, not"):
        await queue.promote_job(soon)
    with pytest.raises(JobNotFoundError, match="no job 404 in queue 'pings'"):
        await queue.promote_job("404")


async def test_promote_all_runs_every_delayed_job_now(
    queue: QueueHandle, producer: Producer[Ping], node: Node
) -> None:
    ids = await add(producer, 4, delay=3_600_000)
    assert await queue.promote_all(count=3) == 4
    seen = await node.states(*ids)
    assert (seen["counts"]["delayed"], seen["counts"]["waiting"]) == (0, 4)
    assert sorted(await node("run", "4", "ok")) == sorted(ids)


async def test_clean_removes_old_jobs_of_one_state(
    queue: QueueHandle, producer: Producer[Ping], node: Node
) -> None:
    ids = await add(producer, 3)
    await node("run", "3", "ok")
    assert await queue.clean("completed", grace_ms=60_000) == []
    assert await queue.clean("completed", grace_ms=0, limit=1) == [ids[0]]
    assert sorted(await queue.clean("completed", grace_ms=0)) == sorted(ids[1:])
    waiting = await add(producer, 2)
    assert sorted(await queue.clean("waiting", grace_ms=0)) == sorted(waiting)
    seen = await node.states(*ids, *waiting)
    assert (seen["counts"]["completed"], seen["counts"]["waiting"]) == (0, 0)
    assert set(seen["states"].values()) == {"missing"}


async def test_remove_job_refuses_an_active_job_and_names_missing_ones(
    queue: QueueHandle, producer: Producer[Ping], node: Node
) -> None:
    kept, gone = await add(producer, 2)
    await queue.remove_job(gone)
    assert (await node.states(gone))["states"] == {gone: "missing"}
    with pytest.raises(JobNotFoundError, match=f"no job {gone} in queue 'pings'"):
        await queue.remove_job(gone)
    holder = node.start("hold")
    assert holder.stdout is not None
    line = await asyncio.to_thread(holder.stdout.readline)
    assert json.loads(line) == kept
    with pytest.raises(JobLockedError, match=f"cannot remove job {kept} of queue 'pings': a wor"):
        await queue.remove_job(kept)
    await asyncio.to_thread(holder.communicate, "", 60)
    assert holder.returncode == 0
    assert await queue.get_job_state(kept) == "completed"
    await queue.remove_job(kept)
    assert await queue.get_job(kept) is None
