"""Flows: a parent waits for its children across queues, stored as Node's FlowProducer stores it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import pytest

from bullmq_codegen.runtime import JobFailedError, Producer, Runtime
from bullmq_codegen.runtime.flows import FlowError, FlowJob, FlowNode, add_flow
from bullmq_codegen.testing import RedisSource
from bullmq_codegen.testing.node import node_bullmq

from ..helpers import generated_case, import_fresh, purge_modules

SCRIPT = Path(__file__).parent / "node" / "flows.js"

P = TypeVar("P")
R = TypeVar("R")
G = TypeVar("G")


@pytest.fixture
def flowcase_root(tmp_path: Path) -> Iterator[Path]:
    yield generated_case("flows", tmp_path, "flowcase/jobs.py")
    purge_modules("flowcase")


@pytest.fixture
async def flowcase(flowcase_root: Path, redis_env: RedisSource) -> AsyncIterator[ModuleType]:
    package = import_fresh(flowcase_root, "flowcase.generated")
    yield package
    await package.close_connections()


@pytest.fixture(scope="session")
def node_modules() -> Path:
    modules = node_bullmq()
    if modules is None:
        pytest.skip("Node.js and npm (and the npm registry) are needed for the interop test")
    return modules


async def node(node_modules: Path, *args: str) -> Any:
    """Run ``flows.js`` with ``args``; its printed JSON."""
    completed = await asyncio.to_thread(
        subprocess.run,
        ["node", str(SCRIPT), *args],
        env={**os.environ, "NODE_PATH": str(node_modules)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


class Flows:
    """The case's producers, as nodes."""

    def __init__(self, package: ModuleType) -> None:
        from flowcase.jobs import assemble_order, quote_part
        from flowcase.schemas import Order, PartRequest

        self.package = package
        self.order = Producer(package.orders_queue, "assembleOrder", Order, assemble_order)
        self.part = Producer(package.parts_queue, "quotePart", PartRequest, quote_part)

    def order_node(
        self, order_id: int, *children: FlowNode[Any, Any, Any], **options: object
    ) -> FlowNode[Any, Any, Any]:
        from flowcase.schemas import Order

        return self.order.node(Order(order_id=order_id), options, children=children)

    def part_node(
        self, sku: str, cents: int, *, fail: bool = False, **options: object
    ) -> FlowNode[Any, Any, Any]:
        from flowcase.schemas import PartRequest

        return self.part.node(PartRequest(sku=sku, cents=cents, fail=fail), options)

    def key(self, job: FlowJob[Any, Any, Any]) -> str:
        """The job's Redis key (``<prefix>:<queue>:<id>``), as BullMQ names children."""
        return job.job.queue.context().job_key(job.job.id)

    async def hash(self, job_id: str, queue: str) -> dict[str, str]:
        """Every field of job ``job_id`` of ``queue`` as stored."""
        ctx = self.package.orders_queue.context()
        fields: dict[str, str] = await ctx.client.hgetall(f"{ctx.prefix}:{queue}:{job_id}")
        return fields


async def test_parent_runs_after_its_children_with_their_typed_results(
    flowcase: ModuleType, redis_env: RedisSource, prefix: str, node_modules: Path
) -> None:
    from flowcase import jobs
    from flowcase.schemas import Quote, Total

    flows = Flows(flowcase)
    added = await add_flow(
        flows.order_node(
            1,
            flows.part_node("wheel", 250),
            flows.part_node("frame", 9000),
            flows.order_node(
                2, flows.part_node("bell", 5)
            ),  # a sub-assembly: a child with children
        )
    )
    root = added
    wheel, frame, sub = added.children
    assert await root.job.state() == "waiting-children"
    assert await sub.job.state() == "waiting-children"
    async with flowcase.create_workers():
        total = await root.job.result(timeout=15)
    assert total == Total(order_id=1, cents=250 + 9000 + 5, parts=3)
    bell = sub.children[0]
    assert await sub.job.result() == Total(order_id=2, cents=5, parts=1)

    values, results = jobs.SEEN[root.job.id]
    assert values == {
        flows.key(wheel): {"sku": "wheel", "cents": 250},
        flows.key(frame): {"sku": "frame", "cents": 9000},
        flows.key(sub): {"order_id": 2, "cents": 5, "parts": 1},
    }
    assert jobs.SEEN[sub.job.id][1] == {flows.key(bell): Quote(sku="bell", cents=5)}
    assert results == {
        flows.key(wheel): Quote(sku="wheel", cents=250),
        flows.key(frame): Quote(sku="frame", cents=9000),
        flows.key(sub): Total(order_id=2, cents=5, parts=1),
    }

    # Node's Job reads the same children's values and dependencies
    seen = await node(node_modules, "children", redis_env.url, prefix, "orders", root.job.id)
    assert seen["state"] == "completed"
    assert seen["values"] == values
    assert sorted(seen["dependencies"]["processed"]) == sorted(values)
    assert seen["counts"]["unprocessed"] == 0
    assert seen["returnvalue"] == {"order_id": 1, "cents": 9255, "parts": 3}


async def test_a_node_flow_producer_flow_runs_on_our_workers(
    flowcase: ModuleType, redis_env: RedisSource, prefix: str, node_modules: Path
) -> None:
    from flowcase import jobs
    from flowcase.schemas import Total

    part = {"name": "quotePart", "queueName": "parts"}
    flow = {
        "name": "assembleOrder",
        "queueName": "orders",
        "data": {"order_id": 3},
        "children": [
            {**part, "data": {"sku": "seat", "cents": 1200}},
            {**part, "data": {"sku": "chain", "cents": 800}, "opts": {"priority": 2}},
        ],
    }
    ids = await node(node_modules, "flow", redis_env.url, prefix, json.dumps(flow))
    async with flowcase.create_workers():
        total = await flowcase.get_assemble_order_job(ids["id"]).result(timeout=15)
    assert total == Total(order_id=3, cents=2000, parts=2)
    values, _ = jobs.SEEN[ids["id"]]
    assert values == {
        f"{prefix}:parts:{ids['children'][0]['id']}": {"sku": "seat", "cents": 1200},
        f"{prefix}:parts:{ids['children'][1]['id']}": {"sku": "chain", "cents": 800},
    }


async def test_node_workers_run_a_flow_we_added(
    flowcase: ModuleType, redis_env: RedisSource, prefix: str, node_modules: Path
) -> None:
    from flowcase.schemas import Total

    flows = Flows(flowcase)
    root = await add_flow(
        flows.order_node(4, flows.part_node("bolt", 3), flows.part_node("nut", 2, priority=1))
    )
    result = await node(node_modules, "work", redis_env.url, prefix, root.job.id)
    assert result == {"order_id": 4, "cents": 5, "parts": 2, "by": "node"}
    assert await root.job.result(timeout=5) == Total(order_id=4, cents=5, parts=2)


async def test_stored_as_node_flow_producer_stores_it(
    flowcase: ModuleType, redis_env: RedisSource, prefix: str, node_modules: Path
) -> None:
    """The same flow added by Node (ids n-*) and by us (ids p-*): the same keys and fields."""
    flows = Flows(flowcase)
    children: list[tuple[str, int, dict[str, Any]]] = [
        ("a", 100, {"failParentOnFailure": True, "attempts": 2}),
        ("b", 200, {"priority": 3, "removeOnComplete": True}),
        ("c", 300, {"delay": 60_000, "ignoreDependencyOnFailure": True}),
        ("d", 400, {"removeDependencyOnFailure": True, "lifo": True}),
        ("e", 500, {"continueParentOnFailure": True, "backoff": 1000}),
    ]
    node_flow = {
        "name": "assembleOrder",
        "queueName": "orders",
        "data": {"order_id": 9},
        "opts": {"jobId": "n-root", "attempts": 3},
        "children": [
            {
                "name": "quotePart",
                "queueName": "parts",
                "data": {"sku": sku, "cents": cents, "fail": False},
                "opts": {"jobId": f"n-{sku}", **options},
            }
            for sku, cents, options in children
        ],
    }
    await node(node_modules, "flow", redis_env.url, prefix, json.dumps(node_flow))
    await add_flow(
        flows.order_node(
            9,
            *(
                flows.part_node(sku, cents, jobId=f"p-{sku}", **options)
                for sku, cents, options in children
            ),
            jobId="p-root",
            attempts=3,
        )
    )
    client = flowcase.orders_queue.context().client

    def ours(text: str) -> str:
        return text.replace(":n-", ":p-").replace('"n-', '"p-')

    for queue, suffix in [("orders", "root"), *(("parts", sku) for sku, _, _ in children)]:
        theirs = await flows.hash(f"n-{suffix}", queue)
        mine = await flows.hash(f"p-{suffix}", queue)
        for fields in (theirs, mine):
            fields.pop("timestamp")
            for key in ("opts", "parent"):
                if key in fields:
                    fields[key] = json.loads(fields[key])
        # bullmq-py (and so we) store delay 0 in the options where Node leaves it out
        if mine["opts"].get("delay") == 0 and "delay" not in theirs["opts"]:
            del mine["opts"]["delay"]
        assert json.loads(ours(json.dumps(theirs, sort_keys=True))) == mine, suffix
    for command, key in [
        ("ZRANGE", "orders:waiting-children"),
        ("LRANGE", "parts:wait"),
        ("ZRANGE", "parts:delayed"),
        ("ZRANGE", "parts:prioritized"),
    ]:
        members: list[str] = await client.execute_command(command, f"{prefix}:{key}", 0, -1)
        assert sorted("p-" + m[2:] for m in members if m.startswith("n-")) == sorted(
            m for m in members if m.startswith("p-")
        ), key
    theirs_deps = await client.smembers(f"{prefix}:orders:n-root:dependencies")
    mine_deps = await client.smembers(f"{prefix}:orders:p-root:dependencies")
    assert len(mine_deps) == len(children)
    assert {ours(key) for key in theirs_deps} == mine_deps


async def flow_with_a_failing_child(flows: Flows, **policy: object) -> FlowJob[Any, Any, Any]:
    """Order 5: part ``ok`` (10 cents), and part ``bad``, which fails, with ``policy``."""
    return await add_flow(
        flows.order_node(
            5, flows.part_node("ok", 10), flows.part_node("bad", 1, fail=True, **policy)
        )
    )


async def test_fail_parent_on_failure_fails_the_parent_unrun(flowcase: ModuleType) -> None:
    from flowcase import jobs

    flows = Flows(flowcase)
    root = await flow_with_a_failing_child(flows, failParentOnFailure=True)
    bad = root.children[1]
    async with flowcase.create_workers():
        with pytest.raises(JobFailedError) as failed:
            await root.job.result(timeout=15)
    assert failed.value.reason == f"child {flows.key(bad)} failed"
    assert root.job.id not in jobs.SEEN


async def test_ignore_dependency_on_failure_runs_the_parent_and_keeps_the_failure(
    flowcase: ModuleType, redis_env: RedisSource, prefix: str, node_modules: Path
) -> None:
    from flowcase import jobs
    from flowcase.schemas import Total

    flows = Flows(flowcase)
    root = await flow_with_a_failing_child(flows, ignoreDependencyOnFailure=True)
    ok, bad = root.children
    async with flowcase.create_workers():
        assert await root.job.result(timeout=15) == Total(order_id=5, cents=10, parts=1)
    assert jobs.SEEN[root.job.id][0] == {flows.key(ok): {"sku": "ok", "cents": 10}}
    failures = {flows.key(bad): "no quote for bad"}
    assert await flowcase.orders_queue.context().client.hgetall(flows.key(root) + ":failed") == (
        failures
    )
    seen = await node(node_modules, "children", redis_env.url, prefix, "orders", root.job.id)
    assert seen["ignored"] == failures


async def test_remove_dependency_on_failure_runs_the_parent_forgetting_the_child(
    flowcase: ModuleType, redis_env: RedisSource, prefix: str, node_modules: Path
) -> None:
    from flowcase import jobs
    from flowcase.schemas import Total

    flows = Flows(flowcase)
    root = await flow_with_a_failing_child(flows, removeDependencyOnFailure=True)
    ok, _ = root.children
    async with flowcase.create_workers():
        assert await root.job.result(timeout=15) == Total(order_id=5, cents=10, parts=1)
    assert jobs.SEEN[root.job.id][0] == {flows.key(ok): {"sku": "ok", "cents": 10}}
    seen = await node(node_modules, "children", redis_env.url, prefix, "orders", root.job.id)
    assert seen["ignored"] == {}
    assert seen["dependencies"]["processed"] == {flows.key(ok): {"sku": "ok", "cents": 10}}


async def test_without_a_policy_the_parent_waits_for_its_failed_child(
    flowcase: ModuleType,
) -> None:
    flows = Flows(flowcase)
    root = await flow_with_a_failing_child(flows)
    ok, bad = root.children
    async with flowcase.create_workers():
        with pytest.raises(JobFailedError):
            await bad.job.result(timeout=15)
        await ok.job.result(timeout=15)
        assert await root.job.state() == "waiting-children"
    dependencies = await flowcase.orders_queue.context().client.smembers(
        flows.key(root) + ":dependencies"
    )
    assert dependencies == {flows.key(bad)}


async def test_continue_parent_on_failure_starts_the_parent_at_once(
    flowcase: ModuleType,
) -> None:
    """The parent runs as soon as ``bad`` fails, while its other child is still delayed; as
    with Node, completing it then is refused (pending dependencies) and fails the attempt."""
    from flowcase import jobs

    flows = Flows(flowcase)
    root = await add_flow(
        flows.order_node(
            6,
            flows.part_node("later", 10, delay=60_000),
            flows.part_node("bad", 1, fail=True, continueParentOnFailure=True),
        )
    )
    later, bad = root.children
    async with flowcase.create_workers():
        with pytest.raises(JobFailedError) as failed:
            await root.job.result(timeout=15)
    assert jobs.SEEN[root.job.id][0] == {}
    assert failed.value.reason == f"Job {root.job.id} has pending dependencies. moveToFinished"
    assert await later.job.state() == "delayed"
    client = flowcase.orders_queue.context().client
    assert await client.hgetall(flows.key(root) + ":failed") == {flows.key(bad): "no quote for bad"}


async def test_flows_that_cannot_work_are_refused_before_anything_is_added(
    flowcase: ModuleType,
) -> None:
    from flowcase.jobs import quote_part
    from flowcase.schemas import PartRequest

    flows = Flows(flowcase)
    with pytest.raises(
        FlowError, match=r"'quotePart' and 'quotePart'\) have jobId 'twin' in queue 'parts'"
    ):
        await add_flow(
            flows.order_node(
                1, flows.part_node("a", 1, jobId="twin"), flows.part_node("b", 2, jobId="twin")
            )
        )
    for tree in [
        flows.order_node(1, flows.part_node("a", 1), deduplication={"id": "d"}),
        flows.order_node(1, flows.part_node("a", 1, deduplication={"id": "d"})),
    ]:
        with pytest.raises(FlowError, match="has deduplication: BullMQ would not link"):
            await add_flow(tree)
    with pytest.raises(FlowError, match="sets failParentOnFailure, ignoreDependencyOnFailure"):
        flows.part_node("a", 1, failParentOnFailure=True, ignoreDependencyOnFailure=True)
    other = Runtime(flowcase.queues.runtime.config)
    elsewhere = Producer(other.queue("parts"), "quotePart", PartRequest, quote_part)
    with pytest.raises(FlowError, match="of another connection than the root 'assembleOrder'"):
        await add_flow(flows.order_node(1, elsewhere.node(PartRequest(sku="x", cents=1), {})))
    await other.close()
    for queue in (flowcase.orders_queue, flowcase.parts_queue):
        counts = await queue.counts()
        assert set(counts.by_state().values()) == {0}


async def test_existing_children_are_reported_or_refused_as_bullmq_does(
    flowcase: ModuleType,
) -> None:
    from flowcase.schemas import Total

    flows = Flows(flowcase)
    alone = await add_flow(flows.part_node("solo", 3, jobId="solo"))  # a flow of one job
    first = await add_flow(
        flows.order_node(1, flows.part_node("solo", 3, jobId="solo"), flows.part_node("new", 4))
    )
    assert [job.job.duplicate for job in first.walk()] == [False, True, False]
    assert first.children[0].job.id == alone.job.id == "solo"
    # "solo" is now the child of a parent that exists: BullMQ refuses to move it to another
    with pytest.raises(
        FlowError, match="job solo\\) was refused by BullMQ, the rest of the flow added"
    ):
        await add_flow(flows.order_node(2, flows.part_node("solo", 3, jobId="solo")))
    # the existing job became the first parent's dependency: the parent gets its result
    dependencies = await flowcase.orders_queue.context().client.smembers(
        flows.key(first) + ":dependencies"
    )
    assert dependencies == {flows.key(child) for child in first.children}
    async with flowcase.create_workers():
        assert await first.job.result(timeout=15) == Total(order_id=1, cents=7, parts=2)
