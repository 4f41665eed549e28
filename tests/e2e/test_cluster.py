"""A local three-node Redis Cluster: the example-style jobs run through it, under ``{prefix}``."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from bullmq_codegen import DefinitionError, Job, create_queue_config
from bullmq_codegen.testing import RedisServer, find_redis_server, free_port

from ..helpers import generated_case, import_fresh, purge_modules

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[RedisServer]]:
    found = find_redis_server()
    if found is None or shutil.which("redis-cli") is None:
        pytest.skip("redis-server and redis-cli are needed for a cluster")
    nodes: list[RedisServer] = []
    for index in range(3):
        directory = tmp_path_factory.mktemp(f"node{index}")
        node = RedisServer(
            found[0],
            port=free_port(also_free_at=10_000),
            directory=directory,
            extra_args=["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"],
        )
        node.start()
        nodes.append(node)
    try:
        addresses = [f"127.0.0.1:{node.port}" for node in nodes]
        subprocess.run(
            [
                "redis-cli",
                "--cluster",
                "create",
                *addresses,
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        deadline = time.monotonic() + 30
        while not all(_ok(node.port) for node in nodes):
            assert time.monotonic() < deadline, "the cluster did not become ready"
            time.sleep(0.2)
        yield nodes
    finally:
        for node in nodes:
            node.cleanup()


def _ok(port: int) -> bool:
    with Redis(port=port, decode_responses=True) as client:
        return "cluster_state:ok" in str(client.execute_command("CLUSTER", "INFO"))


async def test_jobs_run_through_a_cluster(
    cluster: list[RedisServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefix: str
) -> None:
    tagged = "{" + prefix + "}"
    monkeypatch.setenv("CLUSTER_SEED_PORT", str(cluster[0].port))  # any node will do as the seed
    monkeypatch.setenv("BULLMQ_PREFIX", tagged)
    root = generated_case("clustered", tmp_path, "cl/jobs.py")
    package = import_fresh(root, "cl.generated")
    try:
        from cl.jobs import Order

        orders = await package.enqueue_bill_bulk([Order(number=n) for n in range(200)])
        notices = [await package.enqueue_notify() for _ in range(20)]
        async with package.create_workers():
            results = [await job.wait_until_finished(timeout=20) for job in orders]
            ids = [await job.wait_until_finished(timeout=20) for job in notices]
        assert results == list(range(200))
        assert ids == [job.id for job in notices]
        clients = [Redis(port=node.port, decode_responses=True) for node in cluster]
        slot = clients[0].execute_command("CLUSTER", "KEYSLOT", tagged)
        holders = [client for client in clients if client.keys(f"{tagged}:*")]
        assert len(holders) == 1  # every key of every queue in the tag's slot, on its master
        assert int(holders[0].execute_command("CLUSTER", "COUNTKEYSINSLOT", slot)) > 0
        for client in clients:
            client.close()
        await package.close_connections()
    finally:
        purge_modules("cl")


def test_a_cluster_needs_a_hash_tagged_prefix() -> None:
    async def work(job: Job[None]) -> None:
        return None

    with pytest.raises(
        DefinitionError,
        match=r"a Redis Cluster needs a hash-tagged prefix such as '\{bull\}' \(not 'bull'\)",
    ):
        create_queue_config(
            queues={"q": {"workers": {"w": {"processor": work}}}},
            connection={"host": "127.0.0.1", "port": 7000, "cluster": True},
        )
