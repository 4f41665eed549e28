"""The benchmark suite: ``uv run python -m bench`` (or ``./dev bench``).

Prints a table and writes ``docs/benchmarks/results.json``, ``table.txt`` and
``throughput.png``; every worker and producer run also reports Redis's own CPU
time and commands per job (``bench/workloads/redis_cost.py``), and the sleeping
workers the ceiling ``concurrency / (job time + one round trip)`` measured in
the same run. ``--rounds`` (default 5) interleaved rounds;
``--quick`` for a short smoke run (1 round, small counts) that writes to a
temporary directory instead of docs/.

``python -m bench soak`` runs the soak instead (``bench/soak/run.py``, its own options):
docs/benchmarks/soak.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bullmq_codegen import BullMQCodeGen

from .harness import BENCH, ROOT, Results, Runner, Scenario, environment_info, node, python
from .report import print_table, write_chart, write_json


def scenarios(quick: bool, with_node: bool) -> list[Scenario]:
    scale = 0.1 if quick else 1.0
    jobs = lambda count: str(max(int(count * scale), 200))  # noqa: E731
    bulk_large = [sys.executable, "-m", "bench.workloads.bulk_large"]

    def worker(
        queue: str, job: str, count: int, concurrency: int, sleep_ms: int
    ) -> dict[str, list[str]]:
        common = [
            "--queue",
            queue,
            "--job",
            job,
            "--jobs",
            jobs(count),
            "--concurrency",
            str(concurrency),
            "--sleep-ms",
            str(sleep_ms),
        ]
        commands = {
            "raw": python("worker", "--impl", "raw", *common),
            "ours": python("worker", "--impl", "ours", *common),
        }
        if with_node:
            commands["node"] = node(
                "worker", queue, job, jobs(count), str(concurrency), str(sleep_ms)
            )
        return commands

    def produce(mode: str, count: int, node_too: bool = True) -> dict[str, list[str]]:
        commands = {
            "raw": python("produce", "--impl", "raw", "--mode", mode, "--jobs", jobs(count)),
            "ours": python("produce", "--impl", "ours", "--mode", mode, "--jobs", jobs(count)),
        }
        if with_node and node_too:
            commands["node"] = node("produce", mode, jobs(count))
        return commands

    def waiting(mode: str, count: str) -> dict[str, list[str]]:
        """bullmq-codegen's ``wait_until_finished`` beside Node's ``job.waitUntilFinished``."""
        commands = {
            "ours": [sys.executable, "-m", "bench.workloads.waiting", mode, "--jobs", count]
        }
        if with_node:
            commands["node"] = ["node", str(BENCH / "workloads" / "waiting.js"), mode, count]
        return commands

    return [
        Scenario(
            "worker_noop_c1",
            "worker, concurrency 1, no-op jobs",
            "jobs_per_s",
            worker("noopC1", "noopC1Job", 3000, 1, 0),
        ),
        Scenario(
            "worker_noop_c10",
            "worker, concurrency 10, no-op jobs",
            "jobs_per_s",
            worker("noopC10", "noopC10Job", 10000, 10, 0),
        ),
        Scenario(
            "worker_noop_c100",
            "worker, concurrency 100, no-op jobs",
            "jobs_per_s",
            worker("noopC100", "noopC100Job", 10000, 100, 0),
        ),
        Scenario(
            "worker_1ms_c10",
            "worker, concurrency 10, ~1 ms jobs",
            "jobs_per_s",
            worker("sleepC10", "sleepC10Job", 5000, 10, 1),
        ),
        Scenario(
            "worker_1ms_c100",
            "worker, concurrency 100, ~1 ms jobs",
            "jobs_per_s",
            worker("sleepC100", "sleepC100Job", 10000, 100, 1),
        ),
        Scenario(
            "worker_10ms_c100",
            "worker, concurrency 100, ~10 ms jobs",
            "jobs_per_s",
            worker("sleep10msC100", "sleep10msC100Job", 10000, 100, 10),
        ),
        Scenario(
            "produce_schema",
            "add one at a time, schema-validated payload",
            "jobs_per_s",
            produce("sequential", 5000),
        ),
        Scenario(
            "produce_no_schema",
            "add one at a time, no payload",
            "jobs_per_s",
            {
                "raw": python(
                    "produce", "--impl", "raw", "--mode", "sequential", "--jobs", jobs(5000)
                ),
                "ours": python(
                    "produce",
                    "--impl",
                    "ours-noschema",
                    "--mode",
                    "sequential",
                    "--jobs",
                    jobs(5000),
                ),
            },
        ),
        Scenario(
            "produce_concurrent",
            "50 coroutines adding concurrently",
            "jobs_per_s",
            produce("concurrent", 20000),
        ),
        Scenario("produce_bulk", "bulk add, batches of 1000", "jobs_per_s", produce("bulk", 20000)),
        Scenario(
            "bulk_large",
            "one bulk of 100,000 (ours: chunked transactions; raw: addBulk, one transaction)",
            "jobs_per_s",
            {
                impl: [*bulk_large, "--impl", impl, "--jobs", jobs(100_000)]
                for impl in ("raw", "ours")
            },
        ),
        Scenario(
            "bulk_large_single",
            "one bulk of 100,000, ours in one transaction (as before chunking)",
            "jobs_per_s",
            {"ours": [*bulk_large, "--impl", "ours", "--jobs", jobs(100_000), "--chunk", "0"]},
        ),
        Scenario(
            "latency",
            "add-to-start latency, p50 (idle worker, a job every 2 ms)",
            "p50_ms",
            {
                "raw": python("latency", "--impl", "raw", "--jobs", jobs(2000)),
                "ours": python("latency", "--impl", "ours", "--jobs", jobs(2000)),
            },
            lower_is_better=True,
            unit="ms",
        ),
        Scenario(
            "and_wait_latency",
            "enqueue, then wait for the no-op job's result: p50 (sequential)",
            "p50_ms",
            waiting("latency", jobs(2000)),
            lower_is_better=True,
            unit="ms",
        ),
        Scenario(
            "waiters_1000",
            "1,000 concurrent waiters: results/s (connections held while waiting)",
            "jobs_per_s",
            waiting("waiters", "1000"),
        ),
        Scenario(
            "idle_rss",
            "idle worker process RSS (2 queues)",
            "rss_mib",
            {
                "raw": python("idle-rss", "--impl", "raw"),
                "raw+pydantic": python("idle-rss", "--impl", "raw+pydantic"),
                "ours": python("idle-rss", "--impl", "ours"),
                "workers start": python("idle-rss", "--impl", "cli"),
            },
            lower_is_better=True,
            unit="MiB",
            warm_up=True,
        ),
        Scenario(
            "import_time",
            "import time: bullmq vs the generated producers",
            "seconds",
            {
                "raw": python("import", "--what", "bullmq"),
                "ours": python("import", "--what", "producers"),
            },
            lower_is_better=True,
            unit="s",
            warm_up=True,
        ),
        Scenario(
            "import_time_pydantic",
            "import time: bullmq + a pydantic model (any app with schemas) vs the generated producers",
            "seconds",
            {
                "raw": python("import", "--what", "bullmq+pydantic"),
                "ours": python("import", "--what", "producers"),
            },
            lower_is_better=True,
            unit="s",
            warm_up=True,
        ),
    ]


def codegen_scenarios() -> list[Scenario]:
    return [
        Scenario(
            f"codegen_{queues}",
            f"bullmq-codegen generate, {queues} queues x 3 workers",
            "seconds",
            {"ours": [sys.executable, "-m", "bench.codegen_workload", str(queues)]},
            lower_is_better=True,
            unit="s",
        )
        for queues in (10, 100, 1000)
    ]


def main() -> int:
    if sys.argv[1:2] == ["soak"]:  # the soak has its own options: bench/soak/run.py
        from .soak.run import main as soak

        return soak(sys.argv[2:])
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--quick", action="store_true", help="1 round, small counts, output to a temp dir"
    )
    parser.add_argument("--only", nargs="*", default=[], help="scenario names (prefixes) to run")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks")
    parser.add_argument(
        "--replot", action="store_true", help="redraw the table and chart from --out/results.json"
    )
    arguments = parser.parse_args()
    if arguments.replot:
        return replot(arguments.out)
    rounds = 1 if arguments.quick else arguments.rounds
    out = Path(tempfile.mkdtemp(prefix="bench-")) if arguments.quick else arguments.out

    BullMQCodeGen(config=BENCH / "app" / "queues" / "queue_definitions.py").generate()
    results = Results()
    started = time.monotonic()
    with Runner(lambda message: print(message, file=sys.stderr)) as runner:
        chosen = [
            scenario
            for scenario in [
                *scenarios(arguments.quick, runner.node is not None),
                *codegen_scenarios(),
            ]
            if not arguments.only
            or any(scenario.name.startswith(prefix) for prefix in arguments.only)
        ]
        if runner.node is None:
            print("Node.js/npm not available: the Node BullMQ rows are left out", file=sys.stderr)
        for round_index in range(rounds):
            for scenario in chosen:
                impls = list(scenario.commands)
                shift = round_index % len(impls)
                for impl in impls[shift:] + impls[:shift]:  # rotate who goes first
                    try:
                        result = runner.run(scenario.commands[impl], warm_up=scenario.warm_up)
                    except (RuntimeError, subprocess.TimeoutExpired) as error:
                        reason = str(error).strip().splitlines()[-1][:300]
                        results.fail(scenario.name, impl, reason)
                        runner.flush()
                        print(
                            f"round {round_index + 1}/{rounds} {scenario.name:<20} {impl:<5} FAILED: {reason}",
                            file=sys.stderr,
                        )
                        continue
                    results.add(scenario.name, impl, result)
                    print(
                        f"round {round_index + 1}/{rounds} {scenario.name:<20} {impl:<5} {json.dumps(result)}",
                        file=sys.stderr,
                    )
        info = environment_info(runner.redis_executable, runner.node)
    info["rounds"] = rounds
    info["minutes"] = round((time.monotonic() - started) / 60, 1)
    out.mkdir(parents=True, exist_ok=True)
    print_table(chosen, results, info, out / "table.txt")
    write_json(out / "results.json", chosen, results, info)
    write_chart(out / "throughput.png", chosen, results, info)
    print(f"wrote {out / 'results.json'}, {out / 'table.txt'} and {out / 'throughput.png'}")
    return 0


def replot(out: Path) -> int:
    """Print the table and redraw the chart of a previous run, without running anything."""
    saved = json.loads((out / "results.json").read_text())
    results = Results(runs=saved["runs"], failures=saved.get("failed_runs", {}))
    info = saved["environment"]
    chosen = [
        scenario
        for scenario in [*scenarios(False, info["node"] != "absent"), *codegen_scenarios()]
        if scenario.name in results.runs
    ]
    print_table(chosen, results, info, out / "table.txt")
    write_chart(out / "throughput.png", chosen, results, info)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
