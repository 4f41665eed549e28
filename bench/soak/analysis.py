"""What the soak proves, from Redis's records, the producers' acknowledgements and the logs."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from redis import Redis

__all__ = [
    "Snapshots",
    "count_log_lines",
    "either",
    "has_bit",
    "runs_twice",
    "seqs_of",
    "set_bits",
    "without",
]

RECORDS = "soakrec"
_LOCK_LOST = "lost the locks of running jobs"
_STALLED = "stalled jobs put back to wait"
_IDS = re.compile(r"ids=(.*)$")
_LEVEL = re.compile(r" (INFO|WARNING|ERROR|CRITICAL) ")


@dataclass
class Snapshots:
    """The active jobs at the two faults."""

    active_at_redis_restart: list[str] = field(default_factory=list)
    """Active just before Redis died, or when it answered again."""
    active_at_sigkill: list[str] = field(default_factory=list)
    """Active just after the runner died."""
    locks_at_sigkill: dict[str, str] = field(default_factory=dict)
    """Job id → its lock's token (``<worker id>:<n>``) just after the runner died."""
    victim_pid: int | None = None
    sigkill_at: float = 0.0
    """When the runner was killed (Unix time)."""


def set_bits(data: bytes) -> list[int]:
    """The positions of the set bits of a Redis bitmap (bit 0 is the first byte's highest)."""
    return [
        index * 8 + bit
        for index, byte in enumerate(data)
        if byte
        for bit in range(8)
        if byte & (0x80 >> bit)
    ]


def without(kept: bytes, removed: bytes) -> bytes:
    """The bitmap of what is set in ``kept`` and not in ``removed``."""
    removed = removed.ljust(len(kept), b"\0")
    return bytes(a & ~b & 0xFF for a, b in zip(kept, removed, strict=False))


def either(first: bytes, second: bytes) -> bytes:
    """The union of two bitmaps."""
    size = max(len(first), len(second))
    return bytes(
        a | b for a, b in zip(first.ljust(size, b"\0"), second.ljust(size, b"\0"), strict=True)
    )


def seqs_of(job_ids: Iterable[str]) -> set[int]:
    """The sequence numbers of job ids ``t<seq>``."""
    return {int(job_id[1:]) for job_id in job_ids if job_id.startswith("t")}


def _entries(client: Redis, key: str) -> list[dict[str, Any]]:
    return [json.loads(row) for row in client.lrange(f"{RECORDS}:{key}", 0, -1)]


def has_bit(data: bytes, position: int) -> bool:
    """Whether bit ``position`` of a Redis bitmap is set."""
    index = position >> 3
    return index < len(data) and bool(data[index] & (0x80 >> (position & 7)))


def runs_twice(client: Redis, snapshots: Snapshots) -> dict[str, Any]:
    """Every job whose processor started more than once, and why; and the jobs BullMQ
    took again (``ats`` above 1) whose processor ran once.

    A start is a second one when its ``started`` bit was already set. When that record
    was itself a resend (its first sending may have landed), it counts only when two
    processes started the job (their ``started:<pid>`` bits).
    """
    restarts = _entries(client, "restarts")
    done_again = _entries(client, "done_again")
    started_by: dict[int, bytes] = {
        int(key.rsplit(b":", 1)[1]): client.get(key) or b""  # type: ignore[misc]
        for key in client.scan_iter(f"{RECORDS}:started:*")
    }

    def real(entry: dict[str, Any]) -> bool:
        if not entry["again"]:
            return False
        starters = [pid for pid, seqs in started_by.items() if has_bit(seqs, entry["seq"])]
        return not entry["resent"] or len(starters) > 1

    entries = [*restarts, *done_again]
    twice = sorted({entry["seq"] for entry in entries if real(entry)})
    unsure = sorted({e["seq"] for e in entries if e["again"] and not real(e)} - set(twice))
    taken_again = sorted({entry["seq"] for entry in restarts if not entry["again"]} - set(twice))
    victim = started_by.get(snapshots.victim_pid or -1, b"")
    # the killed runner's worker: the holder of the locks of jobs it had started
    locks = snapshots.locks_at_sigkill
    victim_workers = {
        token.split(":")[0] for job_id, token in locks.items() if has_bit(victim, int(job_id[1:]))
    }
    at_sigkill = seqs_of(j for j, token in locks.items() if token.split(":")[0] in victim_workers)
    cut_short_by_sigkill = {seq for seq in at_sigkill if has_bit(victim, seq)}
    at_restart = seqs_of(snapshots.active_at_redis_restart)

    def causes(seqs: list[int]) -> dict[str, list[int]]:
        why: dict[str, list[int]] = {
            "cut_short_by_sigkill": [],
            "taken_by_the_killed_runner_not_started": [],
            "active_at_redis_restart": [],
            "unexplained": [],
        }
        for seq in seqs:
            if seq in cut_short_by_sigkill:
                why["cut_short_by_sigkill"].append(seq)
            elif seq in at_sigkill:
                why["taken_by_the_killed_runner_not_started"].append(seq)
            elif seq in at_restart:
                why["active_at_redis_restart"].append(seq)
            else:
                why["unexplained"].append(seq)
        return why

    twice_causes = causes(twice)
    reruns = [e["at"] for e in restarts if e["again"] and e["seq"] in cut_short_by_sigkill]
    again_causes = causes(taken_again)
    return {
        "jobs_run_twice": len(twice),
        "by_cause": {cause: len(seqs) for cause, seqs in twice_causes.items()},
        "seqs_by_cause": twice_causes,
        "cut_short_by_sigkill": len(cut_short_by_sigkill),
        "cut_short_by_sigkill_not_run_again": sorted(cut_short_by_sigkill - set(twice)),
        "cut_short_run_again_after_s": [
            round(min(reruns) - snapshots.sigkill_at, 1),
            round(max(reruns) - snapshots.sigkill_at, 1),
        ]
        if reruns
        else None,
        "held_by_the_killed_runner": len(at_sigkill),
        "killed_runner_worker_ids": sorted(victim_workers),
        "active_at_redis_restart": len(at_restart),
        "second_finishes": len({entry["seq"] for entry in done_again if real(entry)}),
        "taken_again_ran_once": len(taken_again),
        "taken_again_ran_once_by_cause": {cause: len(seqs) for cause, seqs in again_causes.items()},
        "taken_again_ran_once_seqs": again_causes,
        "resent_records_unsure": unsure,
        "restart_entries": restarts[:200],
        "done_again_entries": done_again[:200],
    }


def count_log_lines(logs: dict[str, str]) -> dict[str, Any]:
    """Lock-lost warnings (lines and job ids), stalled-job lines, and every warning or
    error by its message, per runner log."""
    per_runner: dict[str, Any] = {}
    lock_lost_ids: list[str] = []
    for name, text in logs.items():
        levels: Counter[str] = Counter()
        messages: Counter[str] = Counter()
        lock_lost = stalled = 0
        for line in text.splitlines():
            level = _LEVEL.search(line)
            if level is None:
                continue
            levels[level.group(1)] += 1
            message = line[level.end() :]
            if level.group(1) != "INFO":
                messages[re.sub(r"\d+", "N", message)[:140]] += 1
            if _LOCK_LOST in line:
                lock_lost += 1
                ids = _IDS.search(line)
                if ids:
                    lock_lost_ids.extend(ids.group(1).split(", "))
            if _STALLED in line:
                stalled += 1
        per_runner[name] = {
            "lock_lost_warnings": lock_lost,
            "stalled_lines": stalled,
            "levels": dict(levels),
            "warnings_and_errors": dict(messages.most_common(20)),
        }
    return {
        "lock_lost_warnings": sum(runner["lock_lost_warnings"] for runner in per_runner.values()),
        "lock_lost_job_ids": lock_lost_ids,
        "runners": per_runner,
    }
