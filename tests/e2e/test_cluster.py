"""A local Redis Cluster (3 masters, 3 replicas): queues in slots of their own, spread over
the masters; Node BullMQ on the same queues; no restart through failovers and a resharding."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bullmq_codegen import DefinitionError, Job, create_queue_config
from bullmq_codegen.contract import Contract, load_contract
from bullmq_codegen.contract.catalog import render_catalog
from bullmq_codegen.contract.diff import diff_contracts
from bullmq_codegen.contract.typescript import render_typescript
from bullmq_codegen.definitions.config import QueueConfig
from bullmq_codegen.definitions.connection import RedisConnectionOptions
from bullmq_codegen.deploy.settings import DeploySettings
from bullmq_codegen.runtime import FlowError, Producer, Runtime, add_flow
from bullmq_codegen.runtime.connection import describe_connection
from bullmq_codegen.testing.cluster_load import (
    LoadReport,
    Token,
    job_name,
    load_config,
    queue_slot,
    queues_on_each_master,
    run_load,
    token_routes,
)
from bullmq_codegen.testing.node import node_bullmq
from bullmq_codegen.testing.redis_cluster import LocalCluster, cluster_tools_missing

from ..helpers import CASES, eventually, generated_case, import_fresh, purge_modules
from ..runner.support import RunnerProcess, child_env


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    missing = cluster_tools_missing()
    if missing is not None:
        pytest.skip(f"a local Redis Cluster needs them: {missing}")
    with LocalCluster(masters=3, replicas=1) as local:
        yield local


def _holders(cluster: LocalCluster, pattern: str) -> set[int]:
    """Ports of the masters holding keys that match ``pattern``."""
    holders: set[int] = set()
    for node in cluster.masters():
        if cluster.ask(node, "KEYS", pattern):
            holders.add(node.port)
    return holders


@pytest.mark.slow
async def test_each_queue_owns_a_slot_and_the_queues_spread_over_the_masters(
    cluster: LocalCluster, prefix: str
) -> None:
    queues = queues_on_each_master(cluster, prefix)
    config = load_config(cluster, queues, prefix)
    assert [config.redis_name(queue) for queue in queues] == [f"{{{q}}}" for q in queues]
    runtime = Runtime(config)
    report = LoadReport()
    cluster.reset_stats()
    async with runtime.workers(token_routes(queues, report)):
        await run_load(runtime, queues, seconds=2.0, adds_per_second=300, report=report)
    await runtime.close()
    assert not report.lost
    assert not report.twice
    shares = {node.port: cluster.command_calls(node) for node in cluster.masters()}
    total = sum(shares.values())
    print("commands per master:", {port: f"{calls / total:.0%}" for port, calls in shares.items()})
    for queue in queues:
        owner = cluster.master_of(queue_slot(config, queue)).port
        assert _holders(cluster, f"{prefix}:{{{queue}}}:*") == {owner}
    assert len(shares) == 3
    assert all(calls > total / 6 for calls in shares.values())  # each serves its queue's load


@pytest.mark.slow
@pytest.mark.parametrize("tagged", [False, True], ids=["a-slot-per-queue", "tagged-prefix"])
async def test_generated_code_runs_on_the_cluster_with_either_key_layout(
    cluster: LocalCluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    prefix: str,
    tagged: bool,
) -> None:
    prefix = "{" + prefix + "}" if tagged else prefix
    monkeypatch.setenv("CLUSTER_SEED_PORT", str(cluster.seed_port))  # any node will do
    monkeypatch.setenv("BULLMQ_PREFIX", prefix)
    root = generated_case("clustered", tmp_path, "cl/jobs.py")
    package = import_fresh(root, "cl.generated")
    try:
        from cl.jobs import Order, queue_config

        orders = await package.enqueue_bill_bulk([Order(number=n) for n in range(200)])
        notices = [await package.enqueue_notify() for _ in range(20)]
        async with package.create_workers():
            results = [await job.wait_until_finished(timeout=20) for job in orders]
            ids = [await job.wait_until_finished(timeout=20) for job in notices]
        assert results == list(range(200))
        assert ids == [job.id for job in notices]
        await package.close_connections()
        for queue in ("billing", "notices"):
            name = queue_config.redis_name(queue)
            assert name == (queue if tagged else f"{{{queue}}}")
            owner = cluster.master_of(queue_slot(queue_config, queue)).port
            assert _holders(cluster, f"{prefix}:{name}:*") == {owner}
        if tagged:  # every queue in the prefix's slot
            assert queue_slot(queue_config, "billing") == queue_slot(queue_config, "notices")
    finally:
        purge_modules("cl")


_NODE_SCRIPT = """
const { Queue, Worker } = require("bullmq");
const { Cluster } = require("ioredis");
const [command, port, prefix, name, count] = process.argv.slice(2);
const connection = () => new Cluster([{ host: "127.0.0.1", port: Number(port) }], {
  redisOptions: { maxRetriesPerRequest: null },
});
async function main() {
  if (command === "add") {
    const queue = new Queue(name, { connection: connection(), prefix });
    const jobs = await queue.addBulk(
      Array.from({ length: Number(count) }, (_, n) => ({ name: "token_emails", data: { n: 1000 + n } })));
    console.log(JSON.stringify(jobs.map((job) => job.id)));
    await queue.close();
  } else {
    const seen = [];
    let done;
    const finished = new Promise((resolve) => { done = resolve; });
    const worker = new Worker(name, async (job) => {
      seen.push(job.data.n);
      if (seen.length === Number(count)) setTimeout(done, 100);
      return job.data.n;
    }, { connection: connection(), prefix });
    worker.on("error", (error) => console.error(error));
    await finished;
    await worker.close();
    console.log(JSON.stringify(seen.sort((a, b) => a - b)));
  }
  process.exit(0);
}
main().catch((error) => { console.error(error); process.exit(1); });
"""


@pytest.mark.slow
async def test_node_bullmq_and_our_workers_share_a_queue_on_the_cluster(
    cluster: LocalCluster, prefix: str, tmp_path: Path
) -> None:
    modules = node_bullmq()
    if modules is None:
        pytest.skip("Node BullMQ could not be installed (no node/npm)")
    script = tmp_path / "cluster.js"
    script.write_text(_NODE_SCRIPT)

    def node(*args: str) -> list[int]:
        done = subprocess.run(
            ["node", str(script), *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={"NODE_PATH": str(modules), "PATH": "/usr/bin:/bin:/usr/local/bin"},
            check=True,
        )
        return [int(item) for item in json.loads(done.stdout.strip().splitlines()[-1])]

    config = load_config(cluster, ["emails"], prefix)
    port = str(cluster.seed_port)
    # Node names the queue as BullMQ's convention for a slot of its own: '{emails}'
    added = await asyncio.to_thread(node, "add", port, prefix, "{emails}", "20")
    assert len(added) == 20
    runtime = Runtime(config)
    report = LoadReport()
    async with runtime.workers(token_routes(["emails"], report)):
        deadline = time.monotonic() + 20
        while len(report.ran) < 20 and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    assert sorted(report.ran) == list(range(1000, 1020))
    producer = Producer(runtime.queue("emails"), job_name("emails"), Token)
    for n in range(15):
        await producer.enqueue(Token(n=n), {})
    await runtime.close()
    ran_by_node = await asyncio.to_thread(node, "run", port, prefix, "{emails}", "15")
    assert ran_by_node == list(range(15))
    owner = cluster.master_of(queue_slot(config, "emails")).port
    assert _holders(cluster, f"{prefix}:{{emails}}:*") == {owner}


async def _under_load(
    cluster: LocalCluster, prefix: str, fault: str
) -> tuple[LoadReport, list[str], QueueConfig, float, float]:
    """Load on one queue per master; ``fault`` happens to the first queue's master after 1 s.
    Returns the report, the queues, the config, and when the fault began and ended."""
    queues = queues_on_each_master(cluster, prefix)
    config = load_config(cluster, queues, prefix)
    runtime = Runtime(config)
    report = LoadReport()
    window: list[float] = []
    victim = cluster.master_of(queue_slot(config, queues[0]))
    others = [node for node in cluster.masters() if node.port != victim.port]

    def disrupt() -> None:
        window.append(time.monotonic())
        if fault == "failover":
            cluster.failover(cluster.replica_of(victim))
        elif fault == "kill":
            cluster.kill(victim)
            cluster.wait_replaced(victim)
        else:
            cluster.move_slot(queue_slot(config, queues[0]), others[0], batch=3, pause=0.1)
        window.append(time.monotonic())

    async def during() -> None:
        await asyncio.sleep(1.0)
        await asyncio.to_thread(disrupt)

    async with runtime.workers(token_routes(queues, report)):
        await run_load(
            runtime, queues, seconds=6.0, adds_per_second=150, during=during, report=report
        )
    await runtime.close()
    print(fault, report.summary(), f"fault took {window[1] - window[0]:.1f}s")
    if fault == "kill":
        cluster.revive(victim)
    return report, queues, config, window[0], window[1]


@pytest.mark.slow
async def test_a_manual_failover_under_load_loses_nothing_and_needs_no_restart(
    cluster: LocalCluster, prefix: str
) -> None:
    report, queues, _, _began, ended = await _under_load(cluster, prefix, "failover")
    assert report.failed_adds == 0  # a moved slot is followed: no producer was told to retry
    assert not report.lost
    assert not report.twice
    after = [t for t, at in report.acknowledged_at.items() if at > ended]
    assert after
    assert all(token in report.ran for token in after)  # the same workers went on
    assert any(report.queue_of[token] == queues[0] for token in after)


@pytest.mark.slow
async def test_a_resharded_queue_slot_is_followed_mid_load(
    cluster: LocalCluster, prefix: str
) -> None:
    report, queues, config, _began, ended = await _under_load(cluster, prefix, "reshard")
    assert report.failed_adds == 0  # ASK, TRYAGAIN and MOVED followed: no add failed
    assert not report.lost
    assert not report.twice
    assert any(
        report.queue_of[t] == queues[0] for t, at in report.acknowledged_at.items() if at > ended
    )
    owner = cluster.master_of(queue_slot(config, queues[0])).port
    assert _holders(cluster, f"{prefix}:{{{queues[0]}}}:*") == {owner}


@pytest.mark.slow
async def test_a_killed_master_loses_only_what_replication_had_not_copied(
    cluster: LocalCluster, prefix: str
) -> None:
    report, queues, _, began, ended = await _under_load(cluster, prefix, "kill")
    # only the add in flight on the killed master may fail (it may have run); the adds that
    # could not reach it waited for its replica to take over
    assert report.failed_adds <= 1
    # what a kill -9 can lose: writes the master acknowledged but had not yet sent to its
    # replica, so only jobs of the killed master's queue, acknowledged before it died
    for token in report.lost:
        assert report.queue_of[token] == queues[0]
        assert report.acknowledged_at[token] <= began
    after = [t for t, at in report.acknowledged_at.items() if at > ended]
    assert after
    assert all(token in report.ran for token in after)  # the same workers went on
    assert any(report.queue_of[token] == queues[0] for token in after)


def test_a_prefix_with_a_brace_but_no_hash_tag_is_refused_on_a_cluster() -> None:
    async def work(job: Job[None]) -> None:
        return None

    with pytest.raises(DefinitionError, match=r"the prefix 'bull\{\}' has a '\{' but no hash tag"):
        create_queue_config(
            queues={"q": {"workers": {"w": {"processor": work}}}},
            connection={"host": "127.0.0.1", "port": 7000, "cluster": True},
            prefix="bull{}",
        )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"db": 1}, r"connection: 'db' does not go with 'cluster': a Redis Cluster has only "),
        ({"unix_socket_path": "/run/redis.sock"}, r"'unix_socket_path' does not go with 'cluster'"),
    ],
)
def test_options_a_cluster_cannot_take_are_refused_when_the_definitions_load(
    extra: dict[str, object], message: str
) -> None:
    # they were refused on first use only: `workers start` called Redis unreachable and
    # retried for redisTimeout
    async def work(job: Job[None]) -> None:
        return None

    with pytest.raises(DefinitionError, match=message):
        create_queue_config(
            queues={"q": {"workers": {"w": {"processor": work}}}},
            connection={"host": "127.0.0.1", "port": 7000, "cluster": True, **extra},  # type: ignore[typeddict-item]
        )


def test_a_cluster_connection_is_shown_as_one() -> None:
    # it was shown as redis://10.0.0.5:7000/0, a single Redis's database
    assert describe_connection({"host": "10.0.0.5", "port": 7000, "cluster": True}) == (
        "redis-cluster://10.0.0.5:7000"
    )
    assert describe_connection(
        {"host": "10.0.0.5", "port": 7000, "cluster": True, "ssl": True, "password": "secret"}
    ) == ("rediss-cluster://***@10.0.0.5:7000")


def test_queue_names_in_redis_follow_node_bullmqs_cluster_conventions() -> None:
    async def work(job: Job[None]) -> None:
        return None

    def names(connection: RedisConnectionOptions, prefix: str) -> str:
        config = create_queue_config(
            queues={"emails": {"workers": {"w": {"processor": work}}}},
            connection=connection,
            prefix=prefix,
        )
        return config.redis_name("emails")

    cluster: RedisConnectionOptions = {"host": "127.0.0.1", "port": 7000, "cluster": True}
    assert names(cluster, "bull") == "{emails}"  # a slot per queue: Node's Queue('{emails}')
    assert names(cluster, "{bull}") == "emails"  # every queue in the prefix's slot
    assert names({"host": "127.0.0.1", "port": 6379}, "bull") == "emails"  # a single Redis


@pytest.mark.parametrize("tagged", [False, True], ids=["a-slot-per-queue", "tagged-prefix"])
def test_the_exports_give_node_the_queue_names_bullmq_knows(
    monkeypatch: pytest.MonkeyPatch, tagged: bool
) -> None:
    monkeypatch.setenv("BULLMQ_PREFIX", "{bull}" if tagged else "bull")
    purge_modules("cl")
    try:
        contract = load_contract(str(CASES / "clustered" / "cl" / "jobs.py"))
    finally:
        purge_modules("cl")
    expected = {} if tagged else {"billing": "{billing}", "notices": "{notices}"}
    assert dict(contract.redis_names) == expected
    assert Contract.from_json(contract.to_json()).redis_names == contract.redis_names
    queues_ts = render_typescript(contract)["queues.ts"]
    producers_ts = render_typescript(contract)["producers.ts"]
    assert "new QueueEvents(queues[name].name, { connection, prefix })" in producers_ts
    catalog = render_catalog(contract, DeploySettings(name="cl"))
    for queue in ("billing", "notices"):
        name = expected.get(queue, queue)
        assert f"{queue}: new Queue({json.dumps(name)}, {{ connection, prefix }})," in queues_ts
        assert (f"Node BullMQ opens it as `new Queue('{name}')`" in catalog) is not tagged
    on_one_redis = dataclasses.replace(contract, redis_names={})
    breaking = [change.line() for change in diff_contracts(on_one_redis, contract).breaking]
    assert breaking == [
        f"BREAKING {queue}/* queue name in Redis: queue {queue!r} named {queue!r} → "
        f"'{{{queue}}}' in Redis (a Redis Cluster's hash slot per queue, or a hash tag in the "
        f"prefix, came or went): jobs waiting under {queue!r} are never processed"
        for queue in ("billing", "notices")
        if not tagged
    ]


@pytest.mark.slow
@pytest.mark.parametrize("tagged", [False, True], ids=["a-slot-per-queue", "tagged-prefix"])
async def test_a_flow_across_queues_needs_them_in_one_slot(
    cluster: LocalCluster, prefix: str, tagged: bool
) -> None:
    prefix = "{" + prefix + "}" if tagged else prefix
    queues = ["parents", "children"]
    runtime = Runtime(load_config(cluster, queues, prefix))
    parents, children = (Producer(runtime.queue(q), job_name(q), Token) for q in queues)
    tree = parents.node(Token(n=1), {}, children=[children.node(Token(n=2), {})])
    try:
        if not tagged:  # two slots: no transaction can hold both
            with pytest.raises(FlowError, match="or on a Redis Cluster of another hash slot"):
                await add_flow(tree)
            return
        report = LoadReport()
        added = await add_flow(tree)
        async with runtime.workers(token_routes(queues, report)):
            await added.job.wait_until_finished(timeout=20)
        assert sorted(report.ran) == [1, 2]  # the child, then its parent
    finally:
        await runtime.close()


@pytest.mark.slow
async def test_a_workers_start_process_follows_a_failover_without_restarting(
    cluster: LocalCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefix: str
) -> None:
    monkeypatch.setenv("CLUSTER_SEED_PORT", str(cluster.seed_port))
    monkeypatch.setenv("BULLMQ_PREFIX", prefix)  # a slot per queue
    root = generated_case("clustered", tmp_path, "cl/jobs.py")
    package = import_fresh(root, "cl.generated")
    runner = RunnerProcess(
        root,
        child_env(CLUSTER_SEED_PORT=str(cluster.seed_port), BULLMQ_PREFIX=prefix),
        config="cl/jobs.py",
    )
    try:
        from cl.jobs import Order, queue_config

        await runner.started(queues=("billing", "notices"))
        before = await package.enqueue_bill_bulk([Order(number=n) for n in range(50)])
        assert [await job.wait_until_finished(timeout=20) for job in before] == list(range(50))
        victim = cluster.master_of(queue_slot(queue_config, "billing"))
        await asyncio.to_thread(cluster.failover, cluster.replica_of(victim))
        assert cluster.master_of(queue_slot(queue_config, "billing")).port != victim.port
        after = await package.enqueue_bill_bulk([Order(number=n) for n in range(50, 100)])
        assert [await job.wait_until_finished(timeout=20) for job in after] == list(range(50, 100))
        assert runner.process.poll() is None, runner.log  # the same process, no restart
        await package.close_connections()
        runner.signal()
        assert runner.wait(timeout=30) == 0, runner.log
    finally:
        runner.stop()
        purge_modules("cl")


@pytest.mark.slow
async def test_queue_control_runs_on_the_cluster(cluster: LocalCluster, prefix: str) -> None:
    # retry_failed and promote_all run a script inside a transaction, which redis-py's
    # RedisCluster client refuses: the queue's own client runs them on its slot's master
    runtime = Runtime(load_config(cluster, ["ctl"], prefix))
    producer = Producer(runtime.queue("ctl"), job_name("ctl"), Token)
    queue = runtime.queue("ctl")
    report = LoadReport()
    try:
        await queue.pause()
        jobs = [await producer.enqueue(Token(n=n), {}) for n in range(3)]
        await producer.enqueue(Token(n=3), {"delay": 60_000})
        assert await queue.promote_all() == 1
        await queue.remove_job(jobs[0].id)
        assert await queue.retry_failed() == 0
        assert (await queue.counts()).waiting == 3
        await queue.resume()
        async with runtime.workers(token_routes(["ctl"], report)):
            deadline = time.monotonic() + 20
            while len(report.ran) < 3 and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        assert sorted(report.ran) == [1, 2, 3]
    finally:
        await runtime.close()


@pytest.mark.slow
async def test_an_add_mid_resharding_to_a_master_without_the_scripts_waits_and_lands(
    cluster: LocalCluster, prefix: str
) -> None:
    """Mid-resharding, the source master answers ``ASK`` for the keys it already handed over,
    and the target ``TRYAGAIN`` to a script whose keys it does not all hold yet; once the
    migration ends, ``MOVED`` leads to the target, which, new to the cluster, has none of
    bullmq's scripts (``NOSCRIPT``): the add waits all that out and lands once."""
    runtime = Runtime(load_config(cluster, ["asked"], prefix))
    producer = Producer(runtime.queue("asked"), job_name("asked"), Token)
    slot = queue_slot(runtime.config, "asked")
    source = cluster.master_of(slot)
    target = next(node for node in cluster.masters() if node.port != source.port)
    report = LoadReport()
    try:
        first = await producer.enqueue(Token(n=0), {})  # the queue's keys, on the source
        source_id, target_id = cluster.node_id(source), cluster.node_id(target)
        cluster.ask(target, "CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
        cluster.ask(source, "CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
        keys = [str(key) for key in cluster.ask(source, "CLUSTER", "GETKEYSINSLOT", slot, 1000)]
        cluster.ask(source, "MIGRATE", "127.0.0.1", target.port, "", 0, 10_000, "KEYS", *keys)
        cluster.ask(target, "SCRIPT", "FLUSH")  # as a master new to the cluster has them
        cluster.ask(target, "CONFIG", "RESETSTAT")
        adding = asyncio.ensure_future(producer.enqueue(Token(n=1), {}))

        async def asked_target() -> bool:
            stats: dict[str, Any] = cluster.ask(target, "INFO", "commandstats")
            return "cmdstat_asking" in stats or adding.done()

        await eventually(asked_target, timeout=30)  # the add was sent on after ASKING
        for node in (target, source, *cluster.masters()):  # the migration ends
            cluster.ask(node, "CLUSTER", "SETSLOT", slot, "NODE", target_id)
        second = await adding
        async with runtime.workers(token_routes(["asked"], report)):
            await first.wait_until_finished(timeout=20)
            await second.wait_until_finished(timeout=20)
        assert report.ran == {0: 1, 1: 1}
        assert second.id != first.id
    finally:
        await runtime.close()
        cluster.wait_healthy()
