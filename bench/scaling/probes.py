"""What a measured window saw: jobs done, Redis's CPU and commands, the machine's CPU.

A window is two snapshots. Jobs done are the drop of the queues' backlog
(``wait`` + ``paused`` + ``active``: jobs leave it when they complete, as every
queue removes its jobs on completion); Redis's CPU comes from ``INFO cpu``
(the whole process and its main thread, the one that runs commands and
scripts), its commands from ``INFO commandstats`` (script-internal calls
included); the workers' CPU from ``/proc/<pid>/stat`` (with their children),
and the machine's from ``/proc/stat``, so what else ran on the machine shows.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis import Redis

__all__ = ["Snapshot", "Window", "backlog", "snapshot", "window"]

_TICK = os.sysconf("SC_CLK_TCK")
_STATES = ("wait", "paused", "active")


def backlog(client: Redis, prefix: str, queues: Sequence[str]) -> int:
    """Jobs of ``queues`` not completed yet (waiting, paused or running)."""
    pipeline = client.pipeline(transaction=False)
    for queue in queues:
        for state in _STATES:
            pipeline.llen(f"{prefix}:{queue}:{state}")
    return sum(int(length) for length in pipeline.execute())


def _process_cpu(pid: int) -> float:
    """CPU seconds of ``pid`` and its descendants still running (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime
    return own + sum(_process_cpu(int(child)) for child in children)


def _machine_busy() -> float:
    """Busy CPU seconds of the whole machine since boot, all cores together."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    # user nice system idle iowait irq softirq steal (guest time is counted in user already)
    return (sum(values[:8]) - values[3] - values[4]) / _TICK


def _redis_info(client: Redis) -> dict[str, Any]:
    info: dict[str, Any] = client.info("cpu")
    commands: dict[str, Any] = client.info("commandstats")
    info["commands"] = sum(
        int(stats["calls"]) for name, stats in commands.items() if name != "cmdstat_info"
    )
    return info


@dataclass(frozen=True)
class Snapshot:
    """The counters at one moment."""

    at: float
    backlog: int
    redis_cpu: float
    redis_main_thread_cpu: float
    redis_commands: int
    clients_cpu: float
    machine_busy: float


def snapshot(client: Redis, prefix: str, queues: Sequence[str], pids: Sequence[int]) -> Snapshot:
    """Read every counter now."""
    info = _redis_info(client)
    return Snapshot(
        at=time.monotonic(),
        backlog=backlog(client, prefix, queues),
        redis_cpu=float(info["used_cpu_sys"]) + float(info["used_cpu_user"]),
        redis_main_thread_cpu=float(info["used_cpu_sys_main_thread"])
        + float(info["used_cpu_user_main_thread"]),
        redis_commands=int(info["commands"]),
        clients_cpu=sum(_process_cpu(pid) for pid in pids),
        machine_busy=_machine_busy(),
    )


@dataclass(frozen=True)
class Window:
    """What happened between two snapshots."""

    jobs: int
    seconds: float
    redis_cpu: float
    redis_main_thread_cpu: float
    redis_commands: int
    clients_cpu: float
    machine_busy: float

    @classmethod
    def between(cls, before: Snapshot, after: Snapshot, jobs: int | None = None) -> Window:
        """The window from ``before`` to ``after``; ``jobs`` when not the backlog's drop."""
        wall = after.at - before.at
        return cls(
            jobs=before.backlog - after.backlog if jobs is None else jobs,
            seconds=wall,
            redis_cpu=after.redis_cpu - before.redis_cpu,
            redis_main_thread_cpu=after.redis_main_thread_cpu - before.redis_main_thread_cpu,
            redis_commands=after.redis_commands - before.redis_commands,
            clients_cpu=after.clients_cpu - before.clients_cpu,
            machine_busy=after.machine_busy - before.machine_busy,
        )

    def figures(self) -> dict[str, float]:
        """The per-second and per-job figures the reports show."""
        jobs = max(self.jobs, 1)
        return {
            "jobs": self.jobs,
            "seconds": round(self.seconds, 3),
            "jobs_per_s": round(self.jobs / self.seconds, 1),
            "redis_cpu_per_s": round(self.redis_cpu / self.seconds, 3),
            "redis_main_thread_cpu_per_s": round(self.redis_main_thread_cpu / self.seconds, 3),
            "redis_cpu_us_per_job": round(self.redis_cpu / jobs * 1e6, 1),
            "redis_commands_per_job": round(self.redis_commands / jobs, 2),
            # where Redis's main thread would be busy all the time, at this cost per job
            "redis_ceiling_jobs_per_s": round(jobs / self.redis_main_thread_cpu)
            if self.redis_main_thread_cpu
            else 0,
            "clients_cpu_per_s": round(self.clients_cpu / self.seconds, 3),
            "clients_cpu_us_per_job": round(self.clients_cpu / jobs * 1e6, 1),
            "machine_busy_cores": round(self.machine_busy / self.seconds, 3),
            # the rest of the machine's CPU: the orchestrator's polls, and anything else running
            "other_cpu_per_s": round(
                (self.machine_busy - self.redis_cpu - self.clients_cpu) / self.seconds, 3
            ),
        }


def window(
    client: Redis,
    prefix: str,
    queues: Sequence[str],
    pids: Sequence[int],
    seconds: float,
    reserve: int,
) -> tuple[Window, bool]:
    """Measure ``seconds`` of draining ``queues``, ending early once no more than ``reserve``
    jobs are left (so no worker ever runs out of work); the window, and whether it ended early.
    """
    before = snapshot(client, prefix, queues, pids)
    ended_early = False
    while time.monotonic() - before.at < seconds:
        time.sleep(0.1)
        if backlog(client, prefix, queues) <= reserve:
            ended_early = True
            break
    return Window.between(before, snapshot(client, prefix, queues, pids)), ended_early
