"""``bullmq-codegen status`` as people and scripts run it: in a terminal (a pty), live with
``--watch`` until Ctrl-C, and ``--json``."""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from bullmq_codegen.testing import RedisServer, RedisSource, find_redis_server

from ..helpers import eventually

STATUS = [sys.executable, "-m", "bullmq_codegen", "status", "--config", "dashcase/jobs.py"]


def terminal_env(columns: int) -> dict[str, str]:
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": "40"}
    env.pop("NO_COLOR", None)
    return env


class Terminal:
    """A command whose stdin, stdout and stderr are a pseudo-terminal."""

    def __init__(self, args: list[str], cwd: Path, *, columns: int = 200) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            args, cwd=cwd, env=terminal_env(columns), stdin=slave, stdout=slave, stderr=slave
        )
        os.close(slave)
        self.screen = b""

    def read_until(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while text.encode() not in self.screen:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not shown; the terminal shows:\n{self.text}")
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # the command exited and the pty closed
                chunk = b""
            if not chunk:
                if self.process.poll() is not None:
                    raise AssertionError(f"exited before {text!r}:\n{self.text}")
                continue
            self.screen += chunk
        return self.text

    @property
    def text(self) -> str:
        return self.screen.decode(errors="replace")

    def wait(self, timeout: float = 30) -> int:
        try:
            while True:  # drain, so the command never blocks on a full pty
                self.screen += os.read(self.master, 65536)
        except OSError:
            pass
        code = self.process.wait(timeout)
        os.close(self.master)
        return code


async def test_status_prints_the_table_in_a_terminal_and_exits_0(
    case_root: Path, case: ModuleType
) -> None:
    await case.enqueue_send_mail({"to": "a@example.com", "subject": "x"})
    await case.reports_queue.pause()
    async with case.create_workers(queues=["mail"]):
        await eventually(lambda: _alive(case), timeout=30)
        terminal = Terminal(STATUS, case_root, columns=80)  # a terminal as it opens
        assert terminal.wait() == 0, terminal.text
    shown = terminal.text
    assert "\x1b[" in shown  # a terminal: Rich styles the table
    assert "…" not in shown, shown  # nothing cut short: every name and heading whole
    for text in ("queue", "wait", "fail rate", "workers alive", "mail", "reports (paused)"):
        assert text in shown, shown
    assert re.search(rf"mail +{socket.gethostname()} +{os.getpid()} +3 +running", shown), shown


async def _alive(case: ModuleType) -> bool:
    health = await case.get_worker_health()
    return bool(health["queues"]["mail"]["alive"])


async def test_status_watch_follows_the_queues_until_ctrl_c(
    case_root: Path, case: ModuleType
) -> None:
    terminal = Terminal([*STATUS, "--watch", "--interval", "0.3"], case_root)
    terminal.read_until("reports")
    await case.reports_queue.pause()
    terminal.read_until("reports (paused)")
    terminal.process.send_signal(signal.SIGINT)
    assert terminal.wait() == 0, terminal.text


async def test_status_watch_ends_between_two_reads_on_sigterm(case_root: Path) -> None:
    # a signal sets an event the watch checks between reads (cancelling a read in flight could
    # be lost inside redis-py, and the watch then ran on after Ctrl-C)
    terminal = Terminal([*STATUS, "--watch", "--interval", "0.2"], case_root)
    terminal.read_until("reports")
    terminal.process.send_signal(signal.SIGTERM)
    assert terminal.wait() == 0, terminal.text


async def test_status_watch_rides_out_redis_going_away(
    case_root: Path, case: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    found = find_redis_server()
    assert found, "no redis-server"
    with RedisServer(found[0], directory=tmp_path) as server:  # this test stops it
        monkeypatch.setenv("REDIS_PORT", str(server.port))
        terminal = Terminal([*STATUS, "--watch", "--interval", "0.3"], case_root)
        terminal.read_until("reports")
        server.stop()
        terminal.read_until("unreachable")
        terminal.read_until("trying again every 0.3 s")
        server.start()
        terminal.screen = b""  # what it shows from now on
        terminal.read_until("reports")  # the table again, by itself
        assert terminal.process.poll() is None, terminal.text
        terminal.process.send_signal(signal.SIGINT)
        assert terminal.wait() == 0, terminal.text


async def test_status_json_for_scripts(
    case_root: Path, case: ModuleType, redis_env: RedisSource
) -> None:
    for index in range(3):
        await case.enqueue_send_mail({"to": f"u{index}@example.com", "subject": "x"})
    done = subprocess.run(
        [*STATUS, "--json"], cwd=case_root, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    mail, reports = data["queues"]
    assert (mail["name"], reports["name"]) == ("mail", "reports")
    assert mail["counts"]["waiting"] == 3
    assert mail["workersAlive"] == 0
    assert mail["failureRate"] is None


def test_status_without_redis_says_so_and_exits_2(
    case_root: Path, redis_env: RedisSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bullmq_codegen.testing import free_port

    monkeypatch.setenv("REDIS_PORT", str(free_port()))
    done = subprocess.run(
        [*STATUS, "--json"], cwd=case_root, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "unreachable" in done.stderr
