"""Running generated workers in production: ``bullmq-codegen workers start`` and friends."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from .loading import GeneratedWorkers, StaleCodeError, load_generated_workers
from .logs import configure_logging
from .settings import LOG_FORMATS, LOG_LEVELS, LOG_STREAMS, RunnerSettings, SettingsError
from .supervisor import EXIT_BAD_INPUT, EXIT_FATAL, EXIT_FORCED, EXIT_OK, WorkerRunner

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FATAL",
    "EXIT_FORCED",
    "EXIT_OK",
    "GeneratedWorkers",
    "RunnerSettings",
    "SettingsError",
    "StaleCodeError",
    "WorkerRunner",
    "configure_logging",
    "load_generated_workers",
    "main",
    "run_workers",
]

_log = logging.getLogger("bullmq_codegen.runner")


def run_workers(
    workers: GeneratedWorkers,
    settings: RunnerSettings,
    *,
    queues: Sequence[str] = (),
    worker_names: Sequence[str] = (),
) -> int:
    """Run ``workers`` until a signal or a fatal error; the exit code."""
    if not settings.enabled:
        _log.info("workers are disabled (WORKER_ENABLED=false): starting nothing")
        return EXIT_OK
    try:
        runner = WorkerRunner(
            runtime=workers.runtime,
            routes=workers.routes,
            settings=settings,
            queues=queues,
            workers=worker_names,
            log=_log,
        )
    except ValueError as error:
        _log.error("%s", error)
        return EXIT_BAD_INPUT
    return asyncio.run(runner.run())


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
    from ..errors import BullMQCodegenError
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
    try:
        package_dir = Path(str(importlib.import_module(package).__file__)).parent
        workers = load_generated_workers(BullMQCodeGen(config=definitions, out_dir=package_dir))
    except BullMQCodegenError as error:
        _log.error("%s", error)
        raise SystemExit(EXIT_BAD_INPUT) from None
    raise SystemExit(
        run_workers(workers, settings, queues=arguments.queue, worker_names=arguments.worker)
    )
