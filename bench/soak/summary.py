"""The soak's figures in words: RSS over the run and the one-screen summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["rss_summary", "summary", "write_rss_chart"]

WARM_SHARE = 0.1
WARM_SAMPLES = 3
"""RSS is compared from the first sample after this share of the jobs was done and this
many samples of the process (a runner started mid-run is still importing at first)."""


def rss_summary(samples: list[dict[str, Any]], jobs: int) -> dict[str, dict[str, Any]]:
    """Per process: RSS when first seen, once warm, at most, and last (MiB), and the
    drift from warm to last."""
    names = sorted({name for sample in samples for name in sample["rss_mib"]})
    result: dict[str, dict[str, Any]] = {}
    for name in names:
        series = [(s["done"], s["rss_mib"][name]) for s in samples if name in s["rss_mib"]]
        warm = next(
            (
                rss
                for index, (done, rss) in enumerate(series)
                if index >= WARM_SAMPLES and done >= jobs * WARM_SHARE
            ),
            series[-1][1],
        )
        values = [rss for _, rss in series]
        result[name] = {
            "samples": len(series),
            "first": values[0],
            "warm": warm,
            "max": max(values),
            "last": values[-1],
            "drift_warm_to_last": round(values[-1] - warm, 1),
        }
    return result


def summary(result: dict[str, Any]) -> str:
    """What a reader needs first, as lines of text."""
    twice = result["runs_twice"]
    logs = result["logs"]
    lines = [
        f"outcome: {result['outcome']} in {result['seconds'] / 60:.1f} min",
        f"acknowledged adds: {result['acknowledged_adds']:,} of {result['jobs']:,}; "
        f"jobs done: {result['jobs_done']:,}; failed jobs: {result['failed_jobs']}",
        f"jobs lost: {result['jobs_lost']}"
        + (f" (first: {result['lost_seqs'][:10]})" if result["jobs_lost"] else ""),
        f"jobs run twice: {twice['jobs_run_twice']} {twice['by_cause']} "
        f"(the SIGKILL cut {twice['cut_short_by_sigkill']} short of the "
        f"{twice['held_by_the_killed_runner']} jobs the killed runner held; "
        f"{twice['active_at_redis_restart']} were active at the Redis restart; the cut-short "
        f"ran again {twice['cut_short_run_again_after_s']} s after the kill)",
        f"jobs whose processor finished twice: {twice['second_finishes']} (the first run's "
        "completion had not reached Redis)",
        f"jobs taken again that ran once: {twice['taken_again_ran_once']} "
        f"{twice['taken_again_ran_once_by_cause']}",
        f"lock-lost warnings: {logs['lock_lost_warnings']} "
        f"({len(logs['lock_lost_job_ids'])} job ids)",
    ]
    for name, rss in result["rss"].items():
        lines.append(
            f"RSS {name}: first {rss['first']} MiB, warm {rss['warm']}, max {rss['max']}, "
            f"last {rss['last']} ({rss['drift_warm_to_last']:+} warm to last, "
            f"{rss['samples']} samples)"
        )
    for name, runner in logs["runners"].items():
        lines.append(f"{name}: exit {result['runner_exit_codes'][name]}, {runner['levels']}")
        lines.extend(
            f"    {count} x {message}" for message, count in runner["warnings_and_errors"].items()
        )
    return "\n".join(lines)


def write_rss_chart(path: Path, result: dict[str, Any]) -> None:
    """Every runner's RSS (and Redis's) against time, the faults marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = result["samples"]
    figure, axes = plt.subplots(figsize=(9, 4))
    names = sorted({name for s in samples for name in s["rss_mib"] if name.startswith("runner")})
    for name in names:
        points = [(s["t"] / 60, s["rss_mib"][name]) for s in samples if name in s["rss_mib"]]
        axes.plot(*zip(*points, strict=True), label=name, marker=".", markersize=3)
    redis = [(s["t"] / 60, s["redis"]["rss_mib"]) for s in samples if "rss_mib" in s["redis"]]
    axes.plot(*zip(*redis, strict=True), label="redis-server", color="#9e9e9e", linestyle="--")
    for event in result["timeline"]:
        if event["event"] in ("redis killed", "redis stopped", "runner SIGKILLed"):
            axes.axvline(event["t"] / 60, color="#c62828", linewidth=0.8)
            axes.annotate(event["event"], (event["t"] / 60, 0), rotation=90, fontsize=7,
                          xytext=(3, 5), textcoords="offset points", color="#c62828")  # fmt: skip
    axes.set_xlabel("minutes")
    axes.set_ylabel("RSS (MiB), sampled every 10 s")
    axes.set_ylim(bottom=0)
    axes.set_title(f"soak: {result['jobs']:,} jobs, RSS of each workers start process")
    axes.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
