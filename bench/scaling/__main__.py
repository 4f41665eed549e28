"""Scaling out and latency under load, ours and Node BullMQ side by side, in one run.

    uv run python -m bench.scaling            # writes docs/benchmarks/scaling.{json,png}, latency.json
    uv run python -m bench.scaling --quick    # short windows, output in a temporary directory
    uv run python -m bench.scaling --only scaling|latency
    uv run python -m bench.scaling --tables   # print the Markdown tables of the saved JSON

One throwaway redis-server (flushed between measurements); every worker and
producer a process of its own; ours and Node's interleaved, who goes first
rotating. The environment (CPU, load average, versions) is printed first and
stored with the figures. A single pass: no medians over rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from redis import Redis

from bullmq_codegen import BullMQCodeGen

from ..harness import ROOT, Runner, environment_info
from . import latency, scale_out
from .context import Context
from .processes import DEFINITIONS, Implementation, environment
from .tables import latency_table, scaling_table

PREFIX = "scale"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _git() -> dict[str, Any]:
    """The commit measured, and the source files changed from it (the checkout is shared)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted_src": git("status", "--porcelain", "--", "src").splitlines(),
    }


def _failed(what: str, error: BaseException) -> str:
    """Log a measurement that crashed or hung; it is kept, as failed, in the results."""
    reason = (str(error).strip().splitlines() or [type(error).__name__])[-1][:300]
    _log(f"{what} FAILED: {reason}")
    return reason


def _rotated(items: list[Implementation], shift: int) -> list[Implementation]:
    shift %= len(items)
    return items[shift:] + items[:shift]


def _scaling(context: Context, impls: list[Implementation]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    turn = 0
    for kind in scale_out.KINDS:
        for layout in scale_out.LAYOUTS:
            for impl in _rotated(impls, turn):
                try:
                    row = scale_out.measure(context, impl, kind, layout)
                except (RuntimeError, OSError, subprocess.SubprocessError) as error:
                    reason = _failed(f"scaling {kind} {layout.label} {impl.name}", error)
                    rows.append(
                        {"impl": impl.name, "kind": kind, "layout": layout.label, "failed": reason}
                    )
                    continue
                rows.append(row)
                _log(
                    f"scaling {kind:<4} {layout.label:<22} {impl.name:<4} "
                    f"{row['jobs_per_s']:>9,.0f} jobs/s  Redis main thread "
                    f"{row['redis_main_thread_cpu_per_s']:>4.0%}  "
                    f"{row['redis_cpu_us_per_job']:>5.1f} µs/job  "
                    f"{row['redis_commands_per_job']:>5.1f} cmds/job  workers "
                    f"{row['clients_cpu_per_s']:.2f} cores  machine "
                    f"{row['machine_busy_cores']:.2f} cores (others {row['other_cpu_per_s']:.2f})"
                    + ("  (window ended early)" if row["ended_early"] else "")
                )
            turn += 1
    return rows


def _latency(context: Context, impls: list[Implementation]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for turn, kind in enumerate(latency.LATENCY_KINDS):
        for impl in _rotated(impls, turn):
            try:
                row = latency.measure(context, impl, kind)
            except (RuntimeError, OSError, subprocess.SubprocessError) as error:
                reason = _failed(f"latency {kind} {impl.name}", error)
                rows.append({"impl": impl.name, "kind": kind, "failed": reason})
                continue
            rows.append(row)
            _log(
                f"latency {kind:<4} {impl.name:<4} max {row['max']['jobs_per_s']:,.0f} jobs/s alone, "
                f"{row['sustained']['jobs_per_s']:,.0f} jobs/s with adds"
            )
            for phase in row["phases"]:
                _log(
                    f"  {phase['load']:.0%}: added {phase['added_jobs_per_s']:,.0f}/s, "
                    f"start p50/p99 {phase.get('start_p50_ms', 0):.2f}/{phase.get('start_p99_ms', 0):.2f} ms, "
                    f"complete p50/p99 {phase.get('complete_p50_ms', 0):.2f}/"
                    f"{phase.get('complete_p99_ms', 0):.2f} ms, "
                    f"left when adds ended {phase['backlog_when_adds_ended']}"
                )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scaling", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short windows, temporary output")
    parser.add_argument("--only", choices=["scaling", "latency"], help="run one half only")
    parser.add_argument("--impl", choices=["ours", "node"], help="one implementation only")
    parser.add_argument("--window", type=float, default=3.0, help="seconds per throughput window")
    parser.add_argument("--phase", type=float, default=5.0, help="seconds per latency load")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks")
    parser.add_argument("--tables", action="store_true", help="print the tables of --out's JSON")
    arguments = parser.parse_args()
    if arguments.tables:
        return _tables(arguments.out)
    out = Path(tempfile.mkdtemp(prefix="bench-scaling-")) if arguments.quick else arguments.out
    window, phase = (1.0, 1.5) if arguments.quick else (arguments.window, arguments.phase)
    BullMQCodeGen(config=DEFINITIONS).generate()
    started = time.monotonic()
    logs = Path(tempfile.mkdtemp(prefix="bench-scaling-logs-"))
    with Runner(_log) as runner:
        # the app reads its Redis when first imported: only after this line
        os.environ.update(BENCH_REDIS_URL=runner.server.url, BENCH_PREFIX=PREFIX)
        from .app.queue_definitions import CONCURRENCY

        info: dict[str, Any] = {
            **environment_info(runner.redis_executable, runner.node),
            "cpu": _cpu_model(),
            **_git(),
            "load_average_before": [round(value, 2) for value in os.getloadavg()],
            "window_seconds": window,
            "phase_seconds": phase,
            "concurrency_per_queue_per_process": CONCURRENCY,
        }
        _log(json.dumps(info))
        env = environment(runner.server.url, PREFIX, runner.node, CONCURRENCY)
        impls = [Implementation("ours", env)]
        if runner.node is not None:
            impls.append(Implementation("node", env))
        else:
            _log("Node.js/npm not available: Node BullMQ is left out")
        impls = [impl for impl in impls if arguments.impl in (None, impl.name)]
        context = Context(
            client=Redis.from_url(runner.server.url),
            prefix=PREFIX,
            flush=runner.flush,
            logs=logs,
            window_seconds=window,
            settle_seconds=0.5,
            phase_seconds=phase,
            log=_log,
        )
        scaling = _scaling(context, impls) if arguments.only != "latency" else []
        latencies = _latency(context, impls) if arguments.only != "scaling" else []
    info["load_average_after"] = [round(value, 2) for value in os.getloadavg()]
    info["minutes"] = round((time.monotonic() - started) / 60, 1)
    _log(json.dumps({key: info[key] for key in ("load_average_after", "minutes")}))
    out.mkdir(parents=True, exist_ok=True)
    if scaling:
        from .chart import write_chart

        (out / "scaling.json").write_text(
            json.dumps({"environment": info, "runs": scaling}, indent=1) + "\n"
        )
        write_chart(out / "scaling.png", scaling, info)
    if latencies:
        (out / "latency.json").write_text(
            json.dumps({"environment": info, "runs": latencies}, indent=1) + "\n"
        )
    _log(f"wrote {out} (process logs in {logs})")
    if scaling:
        print(scaling_table(scaling), end="\n\n")
    if latencies:
        print(latency_table(latencies))
    return 0


def _tables(out: Path) -> int:
    for name, table in (("scaling.json", scaling_table), ("latency.json", latency_table)):
        if (out / name).exists():
            print(table(json.loads((out / name).read_text())["runs"]), end="\n\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
