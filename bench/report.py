"""The benchmark's outputs: a table on stdout, a JSON file and a PNG chart."""

from __future__ import annotations

import json
import statistics
import textwrap
from pathlib import Path
from typing import Any

from .harness import Results, Scenario

IMPL_LABELS = {"raw": "raw bullmq-py", "ours": "bullmq-codegen", "node": "Node BullMQ"}


def _format(value: float, unit: str) -> str:
    if unit == "jobs/s":
        return f"{value:,.0f}"
    if unit == "s":
        return f"{value:.3f}"
    return f"{value:.2f}"


_MEDIANS = (
    "cpu_us_per_job",
    "redis_cpu_us_per_job",
    "redis_script_us_per_job",
    "redis_commands_per_job",
    "redis_scripts_per_job",
    "redis_waits_per_job",
    "redis_reads_per_job",
    "job_ms",
    "rtt_ms",
    "ceiling_per_s",
    "steady_per_s",
    "of_ceiling",
)
"""Figures of a run reported as their median over the rounds, beside the headline."""


def _median_calls(runs: list[dict[str, Any]]) -> dict[str, float]:
    """Redis's calls per job by command, each the median over ``runs`` (absent: 0)."""
    tallies = [run["redis_calls_per_job"] for run in runs if "redis_calls_per_job" in run]
    names = sorted({name for tally in tallies for name in tally})
    return {
        name: round(statistics.median(tally.get(name, 0.0) for tally in tallies), 4)
        for name in names
    }


def rows(scenarios: list[Scenario], results: Results) -> list[dict[str, Any]]:
    """One row per scenario and implementation, with the ratio to raw bullmq-py."""
    table: list[dict[str, Any]] = []
    for scenario in scenarios:
        raw = results.summary(scenario.name, "raw", scenario.metric)
        for impl in scenario.commands:
            summary = results.summary(scenario.name, impl, scenario.metric)
            if summary is None:
                continue
            row: dict[str, Any] = {
                "scenario": scenario.name,
                "label": scenario.label,
                "impl": impl,
                "unit": scenario.unit,
                "metric": scenario.metric,
                **summary,
            }
            for key in _MEDIANS:
                median = results.summary(scenario.name, impl, key)
                if median is not None:
                    row[key] = median["median"]
            calls = _median_calls(results.runs.get(scenario.name, {}).get(impl, []))
            if calls:
                row["redis_calls_per_job"] = calls
            if results.failed(scenario.name, impl):
                row["failed_runs"] = results.failed(scenario.name, impl)
            p99 = results.summary(scenario.name, impl, "p99_ms")
            if p99 is not None:
                row["p99_ms"] = p99["median"]
            connections = results.summary(scenario.name, impl, "connections")
            if connections is not None:
                row["connections"] = connections["max"]
            if raw is not None and impl != "raw" and raw["median"]:
                ratio = summary["median"] / raw["median"]
                row["vs_raw"] = 1 / ratio if scenario.lower_is_better and ratio else ratio
            table.append(row)
    return table


def print_table(
    scenarios: list[Scenario], results: Results, info: dict[str, Any], path: Path | None = None
) -> None:
    """Print the table; also write it to ``path`` as plain text."""
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"bullmq-codegen benchmarks ({info['machine']}, {info['rounds']} rounds, medians)"
    )
    for column in (
        "scenario",
        "implementation",
        "median",
        "min-max",
        "CPU µs/job",
        "Redis CPU µs/job",
        "Redis cmds/job (scripts)",
        "Redis reads/job",
        "vs raw",
        "failed runs",
    ):
        table.add_column(
            column, justify="left" if column in ("scenario", "implementation") else "right"
        )
    for row in rows(scenarios, results):
        unit = row["unit"]
        table.add_row(
            row["label"],
            IMPL_LABELS.get(row["impl"], row["impl"]),
            f"{_format(row['median'], unit)} {unit}"
            + (f" (p99 {row['p99_ms']:.2f})" if "p99_ms" in row else "")
            + (f" ({row['connections']:.0f} connections)" if "connections" in row else "")
            + (
                f" (steady {row['steady_per_s']:,.0f}: {row['of_ceiling']:.0%} of "
                f"{row['ceiling_per_s']:,.0f}; job {row['job_ms']:.2f} ms, "
                f"PING {row['rtt_ms']:.3f} ms)"
                if "steady_per_s" in row
                else f" ({row['of_ceiling']:.0%} of {row['ceiling_per_s']:,.0f}: "
                f"job {row['job_ms']:.2f} ms, PING {row['rtt_ms']:.3f} ms)"
                if "of_ceiling" in row
                else ""
            ),
            f"{_format(row['min'], unit)}-{_format(row['max'], unit)}",
            f"{row['cpu_us_per_job']:.0f}" if "cpu_us_per_job" in row else "",
            f"{row['redis_cpu_us_per_job']:.0f}" if "redis_cpu_us_per_job" in row else "",
            (
                f"{row['redis_commands_per_job']:.2f} ({row['redis_scripts_per_job']:.2f})"
                if "redis_commands_per_job" in row
                else ""
            ),
            f"{row['redis_reads_per_job']:.2f}" if "redis_reads_per_job" in row else "",
            f"{row['vs_raw']:.2f}x" if "vs_raw" in row else "",
            str(row.get("failed_runs", "")),
        )
    console = Console(width=240, record=True)
    console.print(table)
    if path is not None:
        path.write_text(console.export_text())


def write_json(
    path: Path, scenarios: list[Scenario], results: Results, info: dict[str, Any]
) -> None:
    payload = {
        "environment": info,
        "rows": rows(scenarios, results),
        "runs": results.runs,
        "failed_runs": results.failures,
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")


def write_chart(
    path: Path, scenarios: list[Scenario], results: Results, info: dict[str, Any]
) -> None:
    """Throughput of the worker and producer scenarios, log scale, min-max error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chosen = [scenario for scenario in scenarios if scenario.unit == "jobs/s"]
    if not chosen:
        return
    impls = [impl for impl in ("raw", "ours", "node") if any(impl in s.commands for s in chosen)]
    colors = {"raw": "#9e9e9e", "ours": "#1565c0", "node": "#43a047"}
    width = 0.8 / len(impls)
    figure, axes = plt.subplots(figsize=(max(13.0, 1.15 * len(chosen)), 6.5))
    for offset, impl in enumerate(impls):
        xs, heights, low, high = [], [], [], []
        for index, scenario in enumerate(chosen):
            summary = results.summary(scenario.name, impl, scenario.metric)
            if summary is None:
                continue
            xs.append(index + (offset - (len(impls) - 1) / 2) * width)
            heights.append(summary["median"])
            low.append(summary["median"] - summary["min"])
            high.append(summary["max"] - summary["median"])
        axes.bar(
            xs,
            heights,
            width,
            yerr=[low, high],
            capsize=3,
            label=IMPL_LABELS[impl],
            color=colors[impl],
        )
    axes.set_yscale("log")
    axes.set_ylabel("jobs/s (log scale; median, min-max)")
    axes.set_xticks(range(len(chosen)))
    axes.set_xticklabels([textwrap.fill(scenario.label, 16) for scenario in chosen], fontsize=8)
    axes.set_title(
        f"bullmq-codegen vs raw bullmq-py {info['bullmq_py']} vs Node BullMQ {info['node_bullmq']} "
        f"(Redis {info['redis_server'].split()[-1] if info['redis_server'] else '?'}, {info['machine']})"
    )
    axes.legend()
    axes.grid(axis="y", which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
