"""Redis's own cost of a run: its CPU time and the commands it ran, per job.

Each workload takes ``INFO cpu stats commandstats`` (one command) before and after
its measured part and prints both texts (``redis_before``, ``redis_after``);
:func:`redis_cost` turns them into per-job figures. ``INFO commandstats``
counts the commands scripts call as well as the clients' own, so the total is
the work Redis did; ``EVALSHA`` (scripts run) and ``BZPOPMIN`` (blocking waits)
are the clients' round trips to Redis on the hot path; Redis's reads of client
sockets (``total_reads_processed``) are its wake-ups for commands, several
commands written together being one read. The ``INFO`` calls are left out
(each is one read too: two in all, negligible per job).
"""

from __future__ import annotations

from typing import Any

__all__ = ["redis_cost"]

_LEFT_OUT = {"info"}


_SCRIPTS = ("evalsha", "eval", "evalsha_ro", "fcall")


def _parse(info: str) -> tuple[float, dict[str, int], int, int]:
    """``(CPU seconds, calls by command, µs spent running scripts, reads)`` from an
    ``INFO cpu stats commandstats`` text."""
    cpu = 0.0
    calls: dict[str, int] = {}
    script_us = 0
    reads = 0
    for line in info.splitlines():
        if line.startswith(("used_cpu_sys:", "used_cpu_user:")):
            cpu += float(line.split(":", 1)[1])
        elif line.startswith("total_reads_processed:"):
            reads = int(line.split(":", 1)[1])
        elif line.startswith("cmdstat_"):
            name, stats = line[len("cmdstat_") :].split(":", 1)
            fields = dict(item.split("=", 1) for item in stats.split(","))
            calls[name] = int(fields["calls"])
            if name in _SCRIPTS:
                script_us += int(fields["usec"])
    return cpu, calls, script_us, reads


def redis_cost(before: str, after: str, jobs: int) -> dict[str, Any]:
    """Redis CPU µs, commands, scripts and blocking waits per job between two INFO texts.

    ``redis_script_us_per_job`` is the part of Redis's time spent running the
    scripts (the commands they call included); the rest of its CPU time goes to
    reading, parsing and answering commands and to its own event loop.
    """
    cpu_before, calls_before, script_us_before, reads_before = _parse(before)
    cpu_after, calls_after, script_us_after, reads_after = _parse(after)
    per_job = {
        name: (count - calls_before.get(name, 0)) / jobs
        for name, count in sorted(calls_after.items())
        if name not in _LEFT_OUT and count != calls_before.get(name, 0)
    }
    return {
        "redis_cpu_us_per_job": (cpu_after - cpu_before) / jobs * 1e6,
        "redis_commands_per_job": sum(per_job.values()),
        "redis_scripts_per_job": sum(per_job.get(name, 0.0) for name in _SCRIPTS),
        "redis_script_us_per_job": (script_us_after - script_us_before) / jobs,
        "redis_waits_per_job": per_job.get("bzpopmin", 0.0),
        "redis_reads_per_job": (reads_after - reads_before) / jobs,
        "redis_calls_per_job": {name: round(value, 4) for name, value in per_job.items()},
    }
