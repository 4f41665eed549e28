"""Running generated workers in production: ``bullmq-codegen workers start`` and friends."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .loading import GeneratedWorkers, StaleCodeError, load_generated_workers
from .settings import RunnerSettings, SettingsError
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
    "load_generated_workers",
    "main",
    "run_workers",
]

_log = logging.getLogger("bullmq_codegen.runner")


def configure_logging() -> None:
    """Log lines with time, level and source on stderr (``LOG_LEVEL`` sets the level)."""
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )


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
        "--queue", action="append", default=[], help="run this queue's workers (repeatable)"
    )
    parser.add_argument(
        "--worker", action="append", default=[], help="run this worker's queue (repeatable)"
    )
    parser.add_argument("--health-port", type=int, help="serve /health/* and /metrics on this port")
    parser.add_argument("--health-host", help="bind the health server here (default 127.0.0.1)")
    arguments = parser.parse_args(argv)
    configure_logging()
    from ..errors import BullMQCodegenError
    from ..generator import BullMQCodeGen
    from ..generator.settings import project_table

    try:
        settings = RunnerSettings.load(
            project_table("workers", Path.cwd()),
            os.environ,
            health_port=arguments.health_port,
            health_host=arguments.health_host,
        )
        if not settings.enabled:
            _log.info("workers are disabled (WORKER_ENABLED=false): starting nothing")
            raise SystemExit(EXIT_OK)
        package_dir = Path(str(importlib.import_module(package).__file__)).parent
        workers = load_generated_workers(BullMQCodeGen(config=definitions, out_dir=package_dir))
    except BullMQCodegenError as error:
        _log.error("%s", error)
        raise SystemExit(EXIT_BAD_INPUT) from None
    raise SystemExit(
        run_workers(workers, settings, queues=arguments.queue, worker_names=arguments.worker)
    )
