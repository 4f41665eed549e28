"""docs/benchmarks/scaling.png: throughput, Redis's CPU and its CPU per job, by layout."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["write_chart"]

_COLORS = {"ours": "#1565c0", "node": "#43a047"}
_NAMES = {"ours": "bullmq-codegen", "node": "Node BullMQ"}
_PANELS = (
    ("jobs_per_s", "aggregate jobs/s", 1.0),
    ("redis_main_thread_cpu_per_s", "CPU, % of one core: Redis main thread (x: workers)", 100.0),
    ("redis_cpu_us_per_job", "Redis CPU µs per job", 1.0),
)


def write_chart(path: Path, rows: Sequence[dict[str, Any]], info: dict[str, Any]) -> None:
    """Grouped bars: one row of panels per kind of job, one bar per implementation (runs that
    failed are left out)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [row for row in rows if "failed" not in row]
    kinds = list(dict.fromkeys(row["kind"] for row in rows))
    impls = list(dict.fromkeys(row["impl"] for row in rows))
    layouts = list(dict.fromkeys(row["layout"] for row in rows))
    figure, axes = plt.subplots(
        len(kinds), len(_PANELS), figsize=(15, 4.2 * len(kinds)), squeeze=False
    )
    width = 0.8 / len(impls)
    for row_index, kind in enumerate(kinds):
        for column, (key, title, scale) in enumerate(_PANELS):
            axis = axes[row_index][column]
            for offset, impl in enumerate(impls):
                by_layout = {
                    row["layout"]: row[key] * scale
                    for row in rows
                    if row["kind"] == kind and row["impl"] == impl
                }
                positions = [
                    index + (offset - (len(impls) - 1) / 2) * width
                    for index, layout in enumerate(layouts)
                    if layout in by_layout
                ]
                values = [by_layout[layout] for layout in layouts if layout in by_layout]
                bars = axis.bar(
                    positions,
                    values,
                    width,
                    color=_COLORS.get(impl, "#9e9e9e"),
                    label=_NAMES.get(impl, impl),
                )
                axis.bar_label(bars, fmt="{:,.0f}", fontsize=7, padding=1)
                if key == "redis_main_thread_cpu_per_s":
                    workers = {
                        row["layout"]: row["clients_cpu_per_s"] * 100
                        for row in rows
                        if row["kind"] == kind and row["impl"] == impl
                    }
                    axis.scatter(
                        positions,
                        [workers[layout] for layout in layouts if layout in workers],
                        marker="x",
                        color="black",
                        zorder=3,
                    )
            if key == "redis_main_thread_cpu_per_s":
                axis.axhline(100, color="#c62828", linewidth=1, linestyle="--")
                axis.set_ylim(0, 210)
            axis.set_xticks(range(len(layouts)))
            axis.set_xticklabels([layout.replace(", ", "\n") for layout in layouts], fontsize=8)
            axis.set_title(f"{kind} jobs: {title}", fontsize=10)
            axis.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=8)
    figure.suptitle(
        f"Scaling out, concurrency {info['concurrency_per_queue_per_process']} per queue per process; "
        f"{info['machine']} shared by Redis "
        f"and every process; {info['redis_server']}, {info['date']}",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
