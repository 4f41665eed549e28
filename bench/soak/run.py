"""The soak: a million jobs through generated producers and ``workers start`` runners, with a
Redis restart and a worker SIGKILL in the middle.

    uv run python -m bench soak [--jobs 1000000]          (./dev bench soak ... alike)

One throwaway ``redis-server`` (append-only file on, ``--appendfsync always`` unless told
otherwise) on a free port in a temporary directory; ``--runners`` processes of
``bullmq-codegen workers start`` on ``bench/soak/soakjobs`` (generated into that
directory); ``--producers`` processes adding the jobs with the generated producer,
each job carrying its sequence number. When a share of the jobs is done, Redis is
killed (``--redis-restart kill``, SIGKILL; or ``term``) and started again on the same
files; later one runner is SIGKILLed and a new one started, as a supervisor would.

Then it reports: jobs lost (acknowledged adds whose processor never finished), jobs run
twice and why (the SIGKILL cut them short, or not), every runner's RSS every 10 s, and
the lock-lost warnings and other warnings in the runners' logs. Writes the figures as
JSON (``--out``) and a summary on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

from bullmq_codegen.testing import RedisServer, find_redis_server

from ..harness import ROOT
from .analysis import RECORDS, Snapshots, count_log_lines, either, runs_twice, set_bits, without
from .environment import checkout, environment
from .processes import Child, child_env, rss_mib
from .summary import rss_summary, summary, write_rss_chart

SOAK = Path(__file__).resolve().parent
PREFIX = "soak"
SAMPLE_EVERY_S = 10.0
PUBLISHED_JOBS = 1_000_000


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench soak",
        description=" ".join(__doc__.split("\n\n")[0].split()).replace("``", "'"),
    )
    parser.add_argument("--jobs", type=int, default=1_000_000, help="how many jobs in all")
    parser.add_argument("--runners", type=int, default=2, help="workers start processes")
    parser.add_argument("--producers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=50, help="each runner's worker")
    parser.add_argument("--max-backlog", type=int, default=20_000, help="jobs waiting, at most")
    parser.add_argument("--appendfsync", choices=["always", "everysec"], default="always")
    parser.add_argument("--redis-restart", choices=["kill", "term"], default="kill")
    parser.add_argument("--redis-down-s", type=float, default=3.0)
    parser.add_argument("--restart-at", type=float, default=0.35, help="share of jobs done")
    parser.add_argument("--kill-at", type=float, default=0.65, help="share of jobs done")
    parser.add_argument("--stuck-after-s", type=float, default=300.0, help="no progress: give up")
    parser.add_argument(
        "--out",
        type=Path,
        help="the JSON figures, beside them the RSS chart (.png); default: "
        "docs/benchmarks/soak.json for the published 1,000,000 jobs, else in the work directory",
    )
    parser.add_argument("--work-dir", type=Path, help="keep the logs and Redis files here")
    parser.add_argument(
        "--code",
        metavar="GIT_REF",
        help="run bullmq_codegen as committed at this ref (e.g. HEAD), not the working tree",
    )
    return parser.parse_args(argv)


class Soak:
    """One run: the Redis, the processes, the faults, the samples."""

    def __init__(self, args: argparse.Namespace, root: Path, redis_executable: str) -> None:
        self.args = args
        self.root = root
        self.redis = RedisServer(
            redis_executable,
            directory=root / "redis",
            extra_args=[
                "--appendonly", "yes",
                "--appendfsync", args.appendfsync,
                "--maxmemory-policy", "noeviction",
            ],
        )  # fmt: skip
        (root / "redis").mkdir()
        self.env: dict[str, str] = {}
        self.runners: list[Child] = []
        self.producers: list[Child] = []
        self.snapshots = Snapshots()
        self.timeline: list[dict[str, Any]] = []
        self.samples: list[dict[str, Any]] = []
        self.started = time.monotonic()
        self.done = 0

    # -- set-up ------------------------------------------------------------------------

    def prepare(self) -> None:
        shutil.copytree(
            SOAK / "soakjobs", self.root / "soakjobs", ignore=shutil.ignore_patterns("__pycache__")
        )
        code = checkout(self.args.code, self.root / "code") if self.args.code else None
        self.redis.start()
        self.env = child_env(self.redis.url, PREFIX, self.args.concurrency, self.root, code)
        generate = [sys.executable, "-m", "bullmq_codegen", "generate", "-c", "soakjobs/jobs.py"]
        subprocess.run(generate, cwd=self.root, env=self.env, check=True, capture_output=True)
        self.client = Redis.from_url(self.redis.url, socket_timeout=10)

    def start_runner(self) -> Child:
        runner = Child.runner(f"runner-{len(self.runners) + 1}", self.root, self.env)
        self.runners.append(runner)
        return runner

    def start_producers(self) -> None:
        share, extra = divmod(self.args.jobs, self.args.producers)
        first = 0
        for index in range(self.args.producers):
            count = share + (1 if index < extra else 0)
            command = [
                sys.executable, "-m", "bench.soak.producer",
                "--url", self.redis.url, "--prefix", PREFIX,
                "--first", str(first), "--count", str(count),
                "--max-backlog", str(self.args.max_backlog // self.args.producers),
                "--out", str(self.root / f"producer-{index + 1}"),
            ]  # fmt: skip
            self.producers.append(Child(f"producer-{index + 1}", command, self.root, self.env))
            first += count

    # -- the run -----------------------------------------------------------------------

    def elapsed(self) -> float:
        return round(time.monotonic() - self.started, 1)

    def event(self, what: str, **facts: Any) -> None:
        entry = {"t": self.elapsed(), "done": self.done, "event": what, **facts}
        self.timeline.append(entry)
        print(f"[{entry['t']:>7.1f} s] {what} {json.dumps(facts)}", file=sys.stderr)

    def run(self) -> str:
        """Until every acknowledged job is done and the queue is empty: ``"finished"``,
        or ``"stuck"`` when nothing moved for ``--stuck-after-s``."""
        for _ in range(self.args.runners):
            self.start_runner()
        for runner in self.runners:
            runner.wait_running()
        self.event("runners running", pids=[runner.pid for runner in self.runners])
        self.started = time.monotonic()
        self.start_producers()
        self.event("producers started", pids=[producer.pid for producer in self.producers])
        restarted = killed = False
        next_sample = time.monotonic()
        last_progress, last_done = time.monotonic(), -1
        while True:
            self.done = self._done_count(self.done)
            if self.done != last_done:
                last_progress, last_done = time.monotonic(), self.done
            if time.monotonic() >= next_sample:
                self.sample()
                next_sample += SAMPLE_EVERY_S
            if not restarted and self.done >= self.args.jobs * self.args.restart_at:
                restarted = True
                self.restart_redis()
            if not killed and self.done >= self.args.jobs * self.args.kill_at:
                killed = True
                self.kill_a_runner()
            if (
                not any(producer.alive() for producer in self.producers)
                and all(runner.running() for runner in self.runners if runner.alive())
                and self._drained()
            ):
                self.sample()
                self.event("every acknowledged job done, queue empty")
                return "finished"
            if time.monotonic() - last_progress > self.args.stuck_after_s:
                self.event("stuck", seconds_without_progress=self.args.stuck_after_s)
                return "stuck"
            time.sleep(1)

    def _done_count(self, previous: int) -> int:
        try:
            return int(self.client.bitcount(f"{RECORDS}:done"))
        except RedisError:
            return previous  # Redis restarting

    def _drained(self) -> bool:
        if self.done < self.acked_total():
            return False
        try:
            pipe = self.client.pipeline(transaction=False)
            for key in ("wait", "active", "paused"):
                pipe.llen(f"{PREFIX}:soak:{key}")
            for key in ("delayed", "prioritized"):
                pipe.zcard(f"{PREFIX}:soak:{key}")
            return not any(pipe.execute())
        except RedisError:
            return False

    def acked_total(self) -> int:
        return sum(self.producer_summary(producer)["acked"] for producer in self.producers)

    def producer_summary(self, producer: Child) -> dict[str, Any]:
        path = self.root / f"{producer.name}.json"
        if not path.exists():
            if not producer.alive() and producer.process.returncode != 0:
                raise RuntimeError(f"{producer.name} failed:\n{producer.log[-3000:]}")
            return {"acked": 0, "resent": [], "duplicates": []}
        return dict(json.loads(path.read_text()))

    def sample(self) -> None:
        """RSS of every process and Redis's memory, now."""
        rss = {
            child.name: rss_mib(child.pid)
            for child in [*self.runners, *self.producers]
            if child.alive()
        }
        redis: dict[str, Any] = {}
        try:
            memory: Any = self.client.info("memory")
            redis = {
                "used_mib": round(memory["used_memory"] / 2**20, 1),
                "rss_mib": round(memory["used_memory_rss"] / 2**20, 1),
            }
        except RedisError:
            redis = {"down": True}
        entry: dict[str, Any] = {
            "t": self.elapsed(),
            "done": self.done,
            "rss_mib": {name: round(value, 1) for name, value in rss.items() if value is not None},
            "redis": redis,
        }
        self.samples.append(entry)
        rate = self.done / max(entry["t"], 0.1)
        print(
            f"[{entry['t']:>7.1f} s] done {self.done:>9,} ({rate:,.0f}/s) rss {entry['rss_mib']} redis {redis}",
            file=sys.stderr,
        )

    def _active(self) -> list[str]:
        return [job_id.decode() for job_id in self.client.lrange(f"{PREFIX}:soak:active", 0, -1)]  # type: ignore[union-attr]

    def restart_redis(self) -> None:
        """Kill (or stop) Redis under load, wait, start it again on the same files.

        The jobs active around it are noted just before and once Redis answers again
        (the state its append-only file kept), so a job run twice because of the
        restart can be told apart; nothing is frozen, writes are in flight when it dies.
        """
        before = self._active()
        down = time.monotonic()
        if self.args.redis_restart == "kill":
            self.redis.kill()
        else:
            self.redis.stop()
        self.event(f"redis {self.args.redis_restart}ed", active_jobs=len(before))
        time.sleep(self.args.redis_down_s)
        loading = time.monotonic()
        self.redis.start(timeout=600)
        after = self._active()
        self.snapshots.active_at_redis_restart = sorted(set(before) | set(after))
        self.event(
            "redis answering again",
            load_s=round(time.monotonic() - loading, 2),
            down_s=round(time.monotonic() - down, 2),
            active_jobs_kept=len(after),
        )

    def kill_a_runner(self) -> None:
        """SIGKILL the first live runner under load, note the active jobs and their lock
        holders (the killed runner's locks last until they expire), start another runner."""
        victim = next(runner for runner in self.runners if runner.alive())
        victim.kill()
        self.snapshots.sigkill_at = time.time()
        active = self._active()
        locks = (
            self.client.mget([f"{PREFIX}:soak:{job_id}:lock" for job_id in active])
            if active
            else []
        )
        self.snapshots.active_at_sigkill = active
        self.snapshots.locks_at_sigkill = {
            job_id: lock.decode() if isinstance(lock, bytes) else str(lock)
            for job_id, lock in zip(active, locks, strict=True)
            if lock
        }
        self.snapshots.victim_pid = victim.pid
        self.event("runner SIGKILLed", runner=victim.name, pid=victim.pid, active_jobs=len(active))
        replacement = self.start_runner()
        self.event("replacement runner started", runner=replacement.name, pid=replacement.pid)

    # -- the end -------------------------------------------------------------------------

    def finish(self, outcome: str) -> dict[str, Any]:
        for producer in self.producers:
            producer.stop()
        codes = {runner.name: runner.stop() for runner in self.runners}
        producers = [self.producer_summary(producer) for producer in self.producers]
        acked = b""
        for producer in self.producers:
            acked = either(acked, (self.root / f"{producer.name}.bin").read_bytes())
        done: bytes = self.client.get(f"{RECORDS}:done") or b""  # type: ignore[assignment]
        lost = set_bits(without(acked, done))
        done_not_acked = set_bits(without(done, acked))
        resent = sorted({seq for summary in producers for seq in summary["resent"]})
        twice = runs_twice(self.client, self.snapshots)
        failed = int(self.client.zcard(f"{PREFIX}:soak:failed"))
        logs = count_log_lines({runner.name: runner.log for runner in self.runners})
        logs["lock_lost_jobs_run_twice"] = sorted(
            {job_id for job_id in logs["lock_lost_job_ids"]}
            & {f"t{seq}" for seq in twice["seqs_by_cause"]["unexplained"]}
        )
        return {
            "outcome": outcome,
            "jobs": self.args.jobs,
            "acknowledged_adds": len(set_bits(acked)),
            "jobs_done": len(set_bits(done)),
            "jobs_lost": len(lost),
            "lost_seqs": lost[:100],
            "done_without_acknowledged_add": done_not_acked[:100],
            "failed_jobs": failed,
            "runs_twice": twice,
            "logs": logs,
            "runner_exit_codes": codes,
            "producers": [
                {
                    key: value
                    for key, value in summary.items()
                    if key not in ("resent", "duplicates")
                }
                | {"resent": len(summary["resent"]), "duplicates": len(summary["duplicates"])}
                for summary in producers
            ],
            "producer_resent_seqs": resent[:100],
            "snapshots": {
                "active_at_redis_restart": self.snapshots.active_at_redis_restart,
                "active_at_sigkill": self.snapshots.active_at_sigkill,
                "locks_at_sigkill": self.snapshots.locks_at_sigkill,
                "killed_runner_pid": self.snapshots.victim_pid,
            },
            "seconds": self.elapsed(),
            "timeline": self.timeline,
            "rss": rss_summary(self.samples, self.args.jobs),
            "samples": self.samples,
        }


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    found = find_redis_server()
    if found is None:
        raise SystemExit("redis-server is needed for the soak (./dev installs it)")
    info = environment(found[0], args)
    print(json.dumps(info, indent=1), file=sys.stderr)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="bullmq-codegen-soak-"))
    published = ROOT / "docs" / "benchmarks" / "soak.json"
    out = args.out or (published if args.jobs == PUBLISHED_JOBS else work / "soak.json")
    work.mkdir(parents=True, exist_ok=True)
    soak = Soak(args, work, found[0])
    try:
        soak.prepare()
        outcome = soak.run()
        result = soak.finish(outcome)
    finally:
        for child in [*soak.runners, *soak.producers]:
            if child.alive():
                child.process.kill()
        soak.redis.stop()
        if args.work_dir is None:  # keep the logs, not Redis's files (gigabytes) nor the code
            shutil.rmtree(work / "redis", ignore_errors=True)
            shutil.rmtree(work / "code", ignore_errors=True)
    result["environment"] = info | {"load_average_at_end": os.getloadavg()}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    write_rss_chart(out.with_suffix(".png"), result)
    print(summary(result))
    print(f"wrote {out} and {out.with_suffix('.png')}; the logs are in {work}")
    proven = (
        result["outcome"] == "finished"
        and result["jobs_lost"] == 0
        and not result["runs_twice"]["by_cause"]["unexplained"]
    )
    return 0 if proven else 1


if __name__ == "__main__":
    raise SystemExit(main())
