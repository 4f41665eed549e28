"""Faults of a Redis Cluster under load: what the runtime loses, runs twice, and tells producers.

    uv run python -m bench.cluster.faults [--rounds 5] [--rate 1000] [--out FILE]

Starts a local cluster (3 masters, 3 replicas, ``cluster-node-timeout`` 2 s) on
free ports, then for each round and each fault: one queue per master under
steady load (``--rate`` adds per second in all, one worker per queue, in one
process), and after 1 s the fault, to the master of the first queue's slot:

* ``failover``: ``CLUSTER FAILOVER`` on its replica (manual, loss-free by design);
* ``reshard``: its slot moved to another master (``SETSLOT IMPORTING/MIGRATING``,
  ``MIGRATE`` 3 keys at a time, ``SETSLOT NODE``);
* ``kill``: ``kill -9`` of the master; its replica takes over after the node timeout
  (the killed node is started again after the round, and rejoins as a replica).

Load goes on for ``--seconds`` in all. Counted per fault: jobs acknowledged (the
add returned), adds that raised, acknowledged jobs never run (lost), jobs run
twice, and how long the fault took; plus each master's share of the commands of
the first round (``INFO commandstats``). Prints a Markdown table; ``--out`` writes
the figures as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bullmq_codegen.definitions.config import QueueConfig
from bullmq_codegen.runtime import Runtime
from bullmq_codegen.testing import find_redis_server
from bullmq_codegen.testing.cluster_load import (
    LoadReport,
    load_config,
    queue_slot,
    queues_on_each_master,
    run_load,
    token_routes,
)
from bullmq_codegen.testing.redis_cluster import LocalCluster, cluster_tools_missing

from ..harness import environment_info

FAULTS = ("failover", "reshard", "kill")
_PREFIX = "bench"


def _fault(
    cluster: LocalCluster, config: QueueConfig, queue: str, fault: str
) -> Callable[[], None]:
    slot = queue_slot(config, queue)
    victim = cluster.master_of(slot)
    if fault == "failover":
        replica = cluster.replica_of(victim)
        return lambda: cluster.failover(replica)
    target = next(node for node in cluster.masters() if node.port != victim.port)

    def reshard() -> None:
        cluster.move_slot(slot, target, batch=3, pause=0.1)

    def kill() -> None:
        cluster.kill(victim)
        cluster.wait_replaced(victim)

    return reshard if fault == "reshard" else kill


async def _round(
    cluster: LocalCluster, fault: str, *, seconds: float, rate: float, shares: bool
) -> dict[str, Any]:
    queues = queues_on_each_master(cluster, _PREFIX)
    config = load_config(cluster, queues, _PREFIX)
    runtime = Runtime(config)
    report = LoadReport()
    disrupt = _fault(cluster, config, queues[0], fault)
    victim_port = cluster.master_of(queue_slot(config, queues[0])).port
    window: list[float] = []

    async def during() -> None:
        await asyncio.sleep(1.0)
        window.append(time.monotonic())
        await asyncio.to_thread(disrupt)
        window.append(time.monotonic())

    if shares:
        cluster.reset_stats()
    async with runtime.workers(token_routes(queues, report)):
        await run_load(
            runtime, queues, seconds=seconds, adds_per_second=rate, during=during, report=report
        )
    await runtime.close()
    figures: dict[str, Any] = {
        "fault": fault,
        **report.summary(),
        "lost_acknowledged_before_fault": sum(
            1 for token in report.lost if report.acknowledged_at[token] <= window[0]
        ),
        "add_errors": dict(report.add_errors),
        "fault_seconds": round(window[1] - window[0], 2),
    }
    if shares:
        calls = {node.port: cluster.command_calls(node) for node in cluster.masters()}
        total = sum(calls.values()) or 1
        figures["command_share"] = {str(port): round(n / total, 3) for port, n in calls.items()}
    if fault == "kill":
        cluster.revive(cluster.node_at(victim_port))
    return figures


async def _main(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with LocalCluster(masters=3, replicas=1) as cluster:
        for index in range(args.rounds):
            for fault in args.faults:
                row = await _round(
                    cluster, fault, seconds=args.seconds, rate=args.rate, shares=index == 0
                )
                row["round"] = index + 1
                print(json.dumps(row), file=sys.stderr)
                rows.append(row)
    return rows


def _table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| fault | rounds | acknowledged | adds that raised | lost | lost, acked before "
        "the fault | ran twice | fault took (s) |"
    )
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    for fault in dict.fromkeys(row["fault"] for row in rows):
        mine = [row for row in rows if row["fault"] == fault]
        counts = [
            sum(int(row[key]) for row in mine)
            for key in (
                "acknowledged",
                "failed_adds",
                "lost",
                "lost_acknowledged_before_fault",
                "ran_twice",
            )
        ]
        took = [float(row["fault_seconds"]) for row in mine]
        cells = " | ".join(str(count) for count in counts)
        lines.append(f"| {fault} | {len(mine)} | {cells} | {min(took):.1f} to {max(took):.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rate", type=float, default=1000.0, help="adds per second in all")
    parser.add_argument("--seconds", type=float, default=8.0, help="load per round")
    parser.add_argument("--faults", nargs="+", choices=FAULTS, default=list(FAULTS))
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args()
    missing = cluster_tools_missing()
    if missing is not None:
        raise SystemExit(f"cannot start a local cluster: {missing}")
    rows = asyncio.run(_main(args))
    print(_table(rows))
    for row in rows:
        if "command_share" in row:
            print(f"\ncommands per master, {row['fault']} round:", row["command_share"])
    if args.out is not None:
        found = find_redis_server()
        environment = environment_info(found[0] if found else "redis-server", None)
        args.out.write_text(json.dumps({"environment": environment, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
