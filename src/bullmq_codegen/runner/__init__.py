"""Running generated workers in production: ``bullmq-codegen workers start`` and friends."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import os
import signal
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import BullMQCodegenError
from .exits import EXIT_BAD_INPUT, EXIT_FATAL, EXIT_FORCED, EXIT_OK
from .http import HealthServer, starting_routes
from .logs import configure_logging
from .settings import LOG_FORMATS, LOG_LEVELS, LOG_STREAMS, RunnerSettings, SettingsError

if TYPE_CHECKING:
    from .loading import GeneratedWorkers, StaleCodeError, load_generated_workers
    from .supervisor import WorkerRunner

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FATAL",
    "EXIT_FORCED",
    "EXIT_OK",
    "GeneratedWorkers",
    "RunnerSettings",
    "SelectionError",
    "SettingsError",
    "StaleCodeError",
    "WorkerRunner",
    "configure_logging",
    "load_generated_workers",
    "main",
    "run_workers",
]

_log = logging.getLogger("bullmq_codegen.runner")

_LAZY = {
    "GeneratedWorkers": "loading",
    "StaleCodeError": "loading",
    "load_generated_workers": "loading",
    "WorkerRunner": "supervisor",
}
"""Names whose modules load the runtime (bullmq, redis...): imported when first asked for, so
the health server can listen before them."""


def __getattr__(name: str) -> object:
    if name in _LAZY:
        module = importlib.import_module(f"{__name__}.{_LAZY[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class SelectionError(BullMQCodegenError):
    """The queues or workers selected to run cannot be run as asked; the message says why."""


def run_workers(
    workers: GeneratedWorkers | Callable[[], GeneratedWorkers],
    settings: RunnerSettings,
    *,
    queues: Sequence[str] = (),
    worker_names: Sequence[str] = (),
) -> int:
    """Run ``workers`` until a signal or a fatal error; the exit code.

    ``workers`` may be the function that loads them (checking the generated
    code, then importing it): with a health port, the health server then
    listens first and answers while they load (live, not ready), so a probe is
    answered from the process's first second. Its errors are raised, and so is
    :class:`SelectionError` for ``queues`` and ``worker_names`` that cannot run.
    """
    if not settings.enabled:
        _log.info("workers are disabled (WORKER_ENABLED=false): starting nothing")
        return EXIT_OK
    from ..runtime import event_loop  # the runtime's modules load after the health server listens

    return event_loop.run(_run(workers, settings, queues, worker_names))


async def _run(
    workers: GeneratedWorkers | Callable[[], GeneratedWorkers],
    settings: RunnerSettings,
    queues: Sequence[str],
    worker_names: Sequence[str],
) -> int:
    early: HealthServer | None = None
    if settings.health_port is not None and callable(workers):
        early = HealthServer(
            settings.health_host,
            settings.health_port,
            starting_routes("loading the generated workers"),
        )
        try:
            await early.start()
        except OSError as error:
            _log.error(
                "cannot serve health on %s:%d: %s",
                settings.health_host,
                settings.health_port,
                error,
            )
            return EXIT_BAD_INPUT
        _log.info("health server on http://%s:%d", settings.health_host, early.port)
    try:
        loaded = await _load(workers) if callable(workers) else workers
        if loaded is None:
            _log.info("stopped before the workers started")
            if early is not None:
                await early.close()
            return EXIT_OK
        from .supervisor import WorkerRunner

        runner = WorkerRunner(
            runtime=loaded.runtime,
            routes=loaded.routes,
            settings=settings,
            queues=queues,
            workers=worker_names,
            log=_log,
            health_server=early,
        )
    except ValueError as error:  # the queues and workers selected do not exist or split a queue
        if early is not None:
            await early.close()
        raise SelectionError(str(error)) from None
    except BaseException:
        if early is not None:
            await early.close()
        raise
    return await runner.run()


async def _load(load: Callable[[], GeneratedWorkers]) -> GeneratedWorkers | None:
    """``load()`` in a thread, so the health server answers meanwhile; ``None`` if SIGTERM or
    SIGINT came first (nothing runs yet, so the process just stops)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    loading = asyncio.ensure_future(asyncio.to_thread(load))
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({loading, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if stop.is_set():
        loading.add_done_callback(lambda task: task.cancelled() or task.exception())
        return None
    return loading.result()


def main(argv: Sequence[str] | None = None, *, package: str | None, definitions: str) -> None:
    """``python -m app.queues.generated``: run that package's workers, as ``workers start`` does.

    ``definitions`` (``module:attribute``) is checked against the package first,
    and ``[tool.bullmq-codegen.workers]`` of the nearest pyproject.toml applies.
    """
    if not package:
        raise SystemExit(
            "run the generated package with python -m, e.g. python -m app.queues.generated"
        )
    parser = argparse.ArgumentParser(prog=f"python -m {package}")
    parser.add_argument(
        "--queue",
        action="append",
        default=[],
        metavar="QUEUE",
        help="run this queue's workers (repeatable)",
    )
    parser.add_argument(
        "--worker",
        action="append",
        default=[],
        metavar="WORKER",
        help="run this worker's queue (repeatable)",
    )
    parser.add_argument(
        "--health-port", metavar="PORT", help="serve /health/* and /metrics on this port"
    )
    parser.add_argument(
        "--health-host", metavar="HOST", help="bind the health server here (default 127.0.0.1)"
    )
    parser.add_argument(
        "--log-level", metavar="LEVEL", help=f"{', '.join(LOG_LEVELS)} (default INFO)"
    )
    parser.add_argument(
        "--log-format", metavar="FORMAT", help=f"{' or '.join(LOG_FORMATS)} (default text)"
    )
    parser.add_argument(
        "--log-stream",
        metavar="STREAM",
        help=f"{', '.join(LOG_STREAMS)} (default split: info to stdout, problems to stderr)",
    )
    parser.add_argument(
        "--log-jobs",
        action=argparse.BooleanOptionalAction,
        help="log a line per completed job (default off)",
    )
    arguments = parser.parse_args(argv)
    from ..generator import BullMQCodeGen
    from ..generator.settings import project_table

    try:
        settings = RunnerSettings.load(
            project_table("workers", Path.cwd()),
            os.environ,
            health_port=arguments.health_port,
            health_host=arguments.health_host,
            log_level=arguments.log_level,
            log_format=arguments.log_format,
            log_stream=arguments.log_stream,
            log_jobs=arguments.log_jobs,
        )
    except BullMQCodegenError as error:
        configure_logging()
        _log.error("%s", error)
        raise SystemExit(EXIT_BAD_INPUT) from None
    configure_logging(settings)
    if not settings.enabled:
        _log.info("workers are disabled (WORKER_ENABLED=false): starting nothing")
        raise SystemExit(EXIT_OK)
    package_dir = Path(str(importlib.import_module(package).__file__)).parent

    def load() -> GeneratedWorkers:
        from .loading import load_generated_workers

        return load_generated_workers(BullMQCodeGen(config=definitions, out_dir=package_dir))

    try:
        code = run_workers(
            load,
            settings,
            queues=arguments.queue,
            worker_names=arguments.worker,
        )
    except BullMQCodegenError as error:
        _log.error("%s", error)
        raise SystemExit(EXIT_BAD_INPUT) from None
    raise SystemExit(code)
