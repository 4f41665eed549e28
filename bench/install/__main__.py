"""``uv run python -m bench.install``: the speed of the default install, and without hiredis.

Builds the wheel, installs it into two fresh virtual environments outside the
repository (as installed; hiredis uninstalled), generates the benchmark
application with the first one's ``bullmq-codegen``, then in interleaved
rounds (rotating order, each run a fresh process, one throwaway
``redis-server``):

- a no-op worker at concurrency 10 run by ``bullmq-codegen workers start``,
  in each environment: jobs/s and the worker's CPU per job;
- an API process's start, in the default install: ``import bullmq`` against
  importing the generated producers, and either's import plus its first job
  added (connecting included);
- an idle worker process's RSS (2 queues): raw bullmq-py's workers, and the
  generated ones created in the process (as the suite measures them) and run by
  ``bullmq-codegen workers start`` (as users run them).

Writes ``docs/benchmarks/install.json`` (``--quick``: a temporary directory).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bullmq_codegen.testing import RedisServer, find_redis_server

from ..harness import ROOT
from .cli_worker import idle_rss, worker_rate
from .venvs import Venv, build_wheel, install, lay_out_app, run

Measure = Callable[[str], dict[str, Any]]
"""One run, given a fresh key prefix: its figures."""


def _json_run(venv: Venv, app: Path, url: str, args: list[str]) -> Measure:
    def measure(prefix: str) -> dict[str, Any]:
        env = venv.env(BENCH_REDIS_URL=url, BENCH_PREFIX=prefix)
        result: dict[str, Any] = json.loads(
            run([venv.bin("python"), *args], cwd=app, env=env).splitlines()[-1]
        )
        return result

    return measure


def scenarios(
    default: Venv, bare: Venv, app: Path, url: str, jobs: int
) -> dict[str, dict[str, Measure]]:
    """Scenario → variant → its run."""
    workload = ["-m", "bench.workloads.python_side"]
    first = ["-m", "bench.install.first_enqueue"]

    def rate(venv: Venv) -> Measure:
        return lambda prefix: worker_rate(venv, app, url, prefix, jobs)

    return {
        "worker_noop_c10": {venv.name: rate(venv) for venv in (default, bare)},
        "import": {
            "bullmq": _json_run(default, app, url, [*workload, "import", "--what", "bullmq"]),
            "bullmq+pydantic": _json_run(
                default, app, url, [*workload, "import", "--what", "bullmq+pydantic"]
            ),
            "producers": _json_run(default, app, url, [*workload, "import", "--what", "producers"]),
        },
        "import_and_first_add": {
            "raw": _json_run(default, app, url, [*first, "raw"]),
            "ours": _json_run(default, app, url, [*first, "ours"]),
        },
        "idle_rss": {
            "raw": _json_run(default, app, url, [*workload, "idle-rss", "--impl", "raw"]),
            "raw+pydantic": _json_run(
                default, app, url, [*workload, "idle-rss", "--impl", "raw+pydantic"]
            ),
            "ours": _json_run(default, app, url, [*workload, "idle-rss", "--impl", "ours"]),
            "workers start": lambda prefix: idle_rss(default, app, url, prefix),
        },
    }


def summary(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Median, min and max of every number the runs report."""
    keys = [key for key, value in runs[0].items() if isinstance(value, int | float)]
    return {
        key: {
            "median": statistics.median(run[key] for run in runs),
            "min": min(run[key] for run in runs),
            "max": max(run[key] for run in runs),
        }
        for key in keys
    }


def _line(label: str, stats: dict[str, float], unit: str, scale: float = 1.0) -> str:
    median, low, high = (stats[k] * scale for k in ("median", "min", "max"))
    return f"  {label:<34} {median:>10,.3f} {unit}  ({low:,.3f}-{high:,.3f})"


def report(results: dict[str, dict[str, dict[str, dict[str, float]]]]) -> list[str]:
    """The table: every scenario's variants side by side."""
    worker = results["worker_noop_c10"]
    lines = ["worker, concurrency 10, no-op jobs, run by `bullmq-codegen workers start`:"]
    for name in worker:
        lines.append(_line(f"{name} install: jobs/s", worker[name]["jobs_per_s"], "jobs/s"))
        lines.append(
            _line(f"{name} install: worker CPU", worker[name]["worker_cpu_us_per_job"], "µs/job")
        )
    lines.append("an API process's start (default install), seconds:")
    for name, stats in results["import"].items():
        lines.append(_line(f"import {name}", stats["seconds"], "s"))
    for name, stats in results["import_and_first_add"].items():
        lines.append(_line(f"{name}: import", stats["import_s"], "s"))
        lines.append(_line(f"{name}: then the first add", stats["first_add_s"], "s"))
    lines.append("idle worker process, 2 queues (default install):")
    for name, stats in results["idle_rss"].items():
        lines.append(_line(f"{name}: RSS", stats["rss_mib"], "MiB"))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.install", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--jobs", type=int, default=20_000, help="jobs per worker run")
    parser.add_argument("--quick", action="store_true", help="1 round, 3,000 jobs, no docs/")
    parser.add_argument("--out", type=Path, help="where install.json goes")
    parser.add_argument(
        "--source",
        type=Path,
        default=ROOT,
        help="the tree to build the wheel from (default this one, uncommitted changes and all;"
        " `git archive HEAD | tar -x -C DIR` makes one of the last commit)",
    )
    args = parser.parse_args()
    rounds, jobs = (1, 3_000) if args.quick else (args.rounds, args.jobs)
    out: Path = args.out or (
        Path(tempfile.mkdtemp(prefix="bench-install-out-"))
        if args.quick
        else ROOT / "docs" / "benchmarks"
    )
    found = find_redis_server()
    if found is None:
        raise SystemExit("redis-server is needed (./dev installs it)")
    work = Path(tempfile.mkdtemp(prefix="bench-install-"))
    print(f"building the wheel and the environments in {work}", flush=True)
    wheel = build_wheel(work, args.source)
    default = install(work, wheel, "default")
    bare = install(work, wheel, "no-hiredis", without=("hiredis",))
    app = lay_out_app(work / "app", default)
    server = RedisServer(found[0], extra_args=["--maxmemory-policy", "noeviction"])
    redis_version = subprocess.run(
        [found[0], "--version"], capture_output=True, text=True, check=False
    ).stdout.split(" sha=")[0]
    environment = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "redis_server": redis_version,
        "wheel": f"{wheel.name}, built from {args.source}",
        "environments": {venv.name: venv.versions() for venv in (default, bare)},
        "rounds": rounds,
        "jobs_per_worker_run": jobs,
    }
    print(json.dumps(environment, indent=2), flush=True)
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {}
    server.start()
    try:
        plan = scenarios(default, bare, app, server.url, jobs)
        counter = 0
        for round_index in range(rounds):
            for scenario, variants in plan.items():
                names = list(variants)
                shift = round_index % len(names)
                for name in names[shift:] + names[:shift]:
                    counter += 1
                    result = variants[name](f"i{counter}")
                    runs.setdefault(scenario, {}).setdefault(name, []).append(result)
                    print(f"round {round_index + 1} {scenario} {name}: {result}", flush=True)
    finally:
        server.cleanup()
    results = {
        scenario: {name: summary(variant_runs) for name, variant_runs in variants.items()}
        for scenario, variants in runs.items()
    }
    print("\n".join(["", *report(results)]))
    out.mkdir(parents=True, exist_ok=True)
    target = out / "install.json"
    document = {"environment": environment, "results": results, "runs": runs}
    target.write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
