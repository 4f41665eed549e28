"""``bullmq-codegen workers dev``: run the workers, restart them when the code changes.

The workers run in a child process (``workers start``), so every restart loads
the code afresh. A change to a watched Python file regenerates the generated
code (only what changed is rewritten) and restarts the child gracefully
(SIGTERM: running jobs finish first).
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
    """
    start_arguments = [
        "--config",
        generator.settings.config,
        "--out",
        str(generator.out_dir),
        *start_arguments,
    ]
    watched = parse_target(generator.settings.config, generator.settings.base_dir).import_root
    stop = threading.Event()

    def on_sigterm(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_sigterm)
    child: subprocess.Popen[bytes] | None = None
    try:
        while not stop.is_set():
            child = _restart(generator, start_arguments, child, grace)
            _log.info("watching %s for changes (Ctrl-C stops)", watched)
            for changes in watch(
                watched, watch_filter=_Filter(generator.out_dir), stop_event=stop, rust_timeout=500
            ):
                names = ", ".join(sorted({Path(path).name for _, path in changes}))
                _log.info("changed: %s: regenerating and restarting the workers", names)
                break
    except KeyboardInterrupt:
        pass
    finally:
        _terminate(child, grace)
    return 0


def _restart(
    generator: BullMQCodeGen,
    start_arguments: Sequence[str],
    child: subprocess.Popen[bytes] | None,
    grace: float,
) -> subprocess.Popen[bytes] | None:
    _terminate(child, grace)
    try:
        result = generator.generate()
    except BullMQCodegenError as error:
        _log.error("not starting the workers: %s", error)
        return None
    for name in result.written:
        _log.info("regenerated %s", result.out_dir / name)
    command = [sys.executable, "-m", "bullmq_codegen", "workers", "start", *start_arguments]
    # its own session: Ctrl-C in the terminal reaches only us, and we send the child one
    # SIGTERM (a second signal would make it abandon running jobs)
    return subprocess.Popen(command, cwd=generator.settings.base_dir, start_new_session=True)


def _terminate(child: subprocess.Popen[bytes] | None, grace: float) -> None:
    if child is None or child.poll() is not None:
        return
    child.send_signal(signal.SIGTERM)
    try:
        child.wait(grace + 5)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
