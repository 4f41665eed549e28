"""``bullmq-codegen workers dev``: run the workers, restart them when the code changes.

The workers run in a child process (``workers start``), so every restart loads
the code afresh. A change to a watched Python file regenerates the generated
code (only what changed is rewritten) and restarts the child gracefully
(SIGTERM: running jobs finish first). Ctrl-C stops the child with SIGINT, as a
terminal would.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from watchfiles import PythonFilter, watch

from ..errors import BullMQCodegenError
from ..generator.codegen import BullMQCodeGen
from ..loader.importer import parse_target

__all__ = ["run_dev"]

_log = logging.getLogger("bullmq_codegen.dev")


class _Filter(PythonFilter):
    """Python files, but not the generated ones (generating must not trigger a restart)."""

    def __init__(self, generated: Path) -> None:
        super().__init__()
        self._generated = str(generated)

    def __call__(self, change: object, path: str) -> bool:
        return super().__call__(change, path) and not path.startswith(self._generated)  # type: ignore[arg-type]


def run_dev(generator: BullMQCodeGen, start_arguments: Sequence[str], grace: float) -> int:
    """Generate, run ``workers start`` with ``start_arguments``, restart on every change.

    The child gets the same definitions and output directory as ``generator``.
    SIGINT (Ctrl-C) or SIGTERM stops it with that same signal, gracefully; a
    second one reaches it too, and stops it at once.
    """
    start_arguments = [
        "--config",
        generator.settings.config,
        "--out",
        str(generator.out_dir),
        *start_arguments,
    ]
    watched = parse_target(generator.settings.config, generator.settings.base_dir).import_root
    session = _Session()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, session.on_signal)
    try:
        while not session.stop.is_set():
            session.child = _restart(generator, start_arguments, session.child, grace)
            _log.info("watching %s for changes (Ctrl-C stops)", watched)
            for changes in watch(
                watched,
                watch_filter=_Filter(generator.out_dir),
                stop_event=session.stop,
                rust_timeout=500,
                raise_interrupt=False,
            ):
                names = ", ".join(sorted({Path(path).name for _, path in changes}))
                _log.info("changed: %s: regenerating and restarting the workers", names)
                break
    finally:
        _terminate(session.child, grace, session.signum)
    return 0


class _Session:
    """The running child, and the signal that stops the session."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.signum = signal.SIGTERM
        self.child: subprocess.Popen[bytes] | None = None

    def on_signal(self, signum: int, frame: object) -> None:
        if self.stop.is_set() and self.child is not None and self.child.poll() is None:
            self.child.send_signal(signum)  # a second signal: the child stops at once
        self.signum = signal.Signals(signum)
        self.stop.set()


def _restart(
    generator: BullMQCodeGen,
    start_arguments: Sequence[str],
    child: subprocess.Popen[bytes] | None,
    grace: float,
) -> subprocess.Popen[bytes] | None:
    _terminate(child, grace, signal.SIGTERM)
    try:
        generator.generate()  # logs what it wrote
    except BullMQCodegenError as error:
        _log.error("not starting the workers: %s", error)
        return None
    command = [sys.executable, "-m", "bullmq_codegen", "workers", "start", *start_arguments]
    # its own session: Ctrl-C in the terminal reaches only us, and we pass the child that one
    # signal (a second would make it abandon running jobs)
    return subprocess.Popen(command, cwd=generator.settings.base_dir, start_new_session=True)


def _terminate(child: subprocess.Popen[bytes] | None, grace: float, signum: int) -> None:
    if child is None or child.poll() is not None:
        return
    child.send_signal(signum)
    try:
        child.wait(grace + 5)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
