"""The Markdown tables of a run (printed at its end, and by ``--tables`` from the saved JSON)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["latency_table", "scaling_table"]

_NAMES = {"ours": "bullmq-codegen", "node": "Node BullMQ"}


def _cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return ""
    if "failed" in row:
        return "failed"
    return (
        f"{row['jobs_per_s']:,.0f} jobs/s; Redis {row['redis_main_thread_cpu_per_s']:.0%}, "
        f"{row['redis_cpu_us_per_job']:.0f} µs/job; workers "
        f"{row['clients_cpu_per_s']:.2f} cores"
        + (" (window ended early)" if row["ended_early"] else "")
    )


def scaling_table(rows: Sequence[dict[str, Any]]) -> str:
    """A line per kind and layout, a column per implementation."""
    impls = list(dict.fromkeys(row["impl"] for row in rows))
    keys = list(dict.fromkeys((row["kind"], row["layout"]) for row in rows))
    lines = [
        "| jobs | processes, queues | "
        + " | ".join(_NAMES.get(impl, impl) for impl in impls)
        + " | CPU of other processes during the windows (cores) |",
        "|---|---|" + "---|" * len(impls) + "---|",
    ]
    for kind, layout in keys:
        found = {
            row["impl"]: row for row in rows if row["kind"] == kind and row["layout"] == layout
        }
        busy = " / ".join(
            f"{max(found[impl]['other_cpu_per_s'], 0):.2f}"
            for impl in impls
            if impl in found and "failed" not in found[impl]
        )
        cells = " | ".join(_cell(found.get(impl)) for impl in impls)
        lines.append(f"| {kind} | {layout} | {cells} | {busy} |")
    return "\n".join(lines)


def latency_table(rows: Sequence[dict[str, Any]]) -> str:
    """A line per kind, implementation and load."""
    lines = [
        "| jobs | implementation | worker's maximum alone / with adds | load | added "
        "| add call p50 / p99 "
        "| add-to-start p50 / p99 | add-to-complete p50 / p99 | left when adds ended |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        name = _NAMES.get(row["impl"], row["impl"])
        if "failed" in row:
            lines.append(f"| {row['kind']} | {name} | failed | | | | | | |")
            continue
        for phase in row["phases"]:
            sustained = row.get("sustained", {}).get("jobs_per_s")
            with_adds = f"{sustained:,.0f}/s" if sustained is not None else "not measured"
            lines.append(
                f"| {row['kind']} | {name} | {row['max']['jobs_per_s']:,.0f}/s / {with_adds} "
                f"| {phase['load']:.0%} | {phase['added_jobs_per_s']:,.0f}/s "
                f"| {phase['add_call_p50_ms']:.2f} / {phase['add_call_p99_ms']:.2f} ms "
                f"| {phase.get('start_p50_ms', 0):.2f} / {phase.get('start_p99_ms', 0):.2f} ms "
                f"| {phase.get('complete_p50_ms', 0):.2f} / "
                f"{phase.get('complete_p99_ms', 0):.2f} ms "
                f"| {phase['backlog_when_adds_ended']:,} |"
            )
    return "\n".join(lines)
