"""The soak's child processes: ``bullmq-codegen workers start`` runners and producers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["Child", "child_env", "rss_mib"]

RUNNING_LINE = "worker soak: running"


def child_env(
    url: str, prefix: str, concurrency: int, root: Path, code: Path | None
) -> dict[str, str]:
    """The environment of every child: the soak's Redis, prefix and concurrency, no
    ``WORKER_*`` settings of the caller's, the generated package and the repository
    importable, and bullmq_codegen from ``code`` (a ``src`` folder) when given."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("WORKER_")}
    environment.update(
        {
            "SOAK_REDIS_URL": url,
            "SOAK_PREFIX": prefix,
            "SOAK_CONCURRENCY": str(concurrency),
            "PYTHONPATH": os.pathsep.join(
                [
                    *([str(code)] if code else []),
                    str(root),
                    str(Path(__file__).resolve().parents[2]),
                ]
            ),
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "INFO",
        }
    )
    return environment


class Child:
    """A child process with its output in a log file."""

    def __init__(self, name: str, command: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.name = name
        self.log_path = cwd / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        self.started_at = time.time()

    @classmethod
    def runner(cls, name: str, cwd: Path, env: dict[str, str]) -> Child:
        """``bullmq-codegen workers start`` on the soak's definitions."""
        command = [sys.executable, "-m", "bullmq_codegen", "workers", "start"]
        return cls(name, [*command, "--config", "soakjobs/jobs.py"], cwd, env)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def running(self) -> bool:
        """Whether its worker runs (the runner logged it)."""
        return RUNNING_LINE in self.log

    def wait_running(self, timeout: float = 120) -> None:
        """Until its worker runs."""
        deadline = time.monotonic() + timeout
        while not self.running():
            if not self.alive():
                raise RuntimeError(f"{self.name} exited {self.process.returncode}:\n{self.log}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} did not start within {timeout} s:\n{self.log}")
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL, as a crash (the OOM killer, a lost machine) would."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self, timeout: float = 120) -> int:
        """SIGTERM and wait: the exit code (killed past ``timeout``)."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._log.close()
        return code


def rss_mib(pid: int) -> float | None:
    """The resident set size of process ``pid`` in MiB (Linux ``/proc``), ``None`` if gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None
