"""``bullmq-codegen workers start|dev``: run the generated workers of the project."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import BullMQCodegenError

if TYPE_CHECKING:
    from ..generator import BullMQCodeGen
    from ..runner import RunnerSettings
    from ..runner.loading import GeneratedWorkers

from .common import ConfigOption, OutOption, load_pyproject_table, report, say

__all__ = ["workers_app"]

workers_app = typer.Typer(
    help="Run the generated workers (production: start; development: dev).",
    rich_markup_mode=None,
)

QueueOption = Annotated[
    list[str] | None,
    typer.Option(
        "--queue",
        "-q",
        metavar="QUEUE",
        help="Run this queue's workers (repeatable; default all).",
    ),
]
WorkerOption = Annotated[
    list[str] | None,
    typer.Option(
        "--worker",
        "-w",
        metavar="WORKER",
        help="Run the queue of this worker (repeatable); a shared queue needs all its workers.",
    ),
]
HealthPortOption = Annotated[
    str | None,
    typer.Option(
        "--health-port",
        metavar="PORT",
        help="Serve /health/live, /health/ready, /health/workers and /metrics on this port "
        "(WORKER_HEALTH_PORT).",
        show_default=False,
    ),
]
HealthHostOption = Annotated[
    str | None,
    typer.Option(
        "--health-host",
        metavar="HOST",
        help="Address of the health server (WORKER_HEALTH_HOST; default 127.0.0.1).",
    ),
]
LogLevelOption = Annotated[
    str | None,
    typer.Option(
        "--log-level",
        metavar="LEVEL",
        help="DEBUG, INFO, WARNING, ERROR or CRITICAL (LOG_LEVEL; default INFO).",
    ),
]
LogFormatOption = Annotated[
    str | None,
    typer.Option(
        "--log-format",
        metavar="FORMAT",
        help="text, or json: one JSON object per line, for log shippers "
        "(LOG_FORMAT; default text).",
    ),
]
LogStreamOption = Annotated[
    str | None,
    typer.Option(
        "--log-stream",
        metavar="STREAM",
        help="split: info to stdout, warnings and errors to stderr; or stdout, or stderr: "
        "everything there (LOG_STREAM; default split).",
    ),
]
LogJobsOption = Annotated[
    bool | None,
    typer.Option(
        "--log-jobs/--no-log-jobs",
        help="Log a line per completed job: queue, name, id, attempt, duration "
        "(LOG_JOBS; default off).",
        show_default=False,
    ),
]


def _prepare(
    config: str | None, out: Path | None, flags: dict[str, object]
) -> tuple[RunnerSettings, BullMQCodeGen]:
    """The runner's settings (logging set up by them) and the project's generator; exit 2
    naming what is wrong."""
    from ..generator import BullMQCodeGen
    from ..runner import RunnerSettings, configure_logging

    try:
        settings = RunnerSettings.load(load_pyproject_table("workers"), os.environ, **flags)
        configure_logging(settings)
        return settings, BullMQCodeGen.from_project(config=config, out_dir=out)
    except BullMQCodegenError as error:
        report(error)
        raise typer.Exit(2) from None


@workers_app.command()
def start(
    config: ConfigOption = None,
    out: OutOption = None,
    queue: QueueOption = None,
    worker: WorkerOption = None,
    health_port: HealthPortOption = None,
    health_host: HealthHostOption = None,
    log_level: LogLevelOption = None,
    log_format: LogFormatOption = None,
    log_stream: LogStreamOption = None,
    log_jobs: LogJobsOption = None,
) -> None:
    """Run the workers, for production.

    They run until SIGTERM or SIGINT (graceful: running jobs finish), a fatal
    error, or a second signal (at once).
    """
    from ..runner import EXIT_BAD_INPUT, run_workers

    settings, generator = _prepare(
        config,
        out,
        {
            "health_port": health_port,
            "health_host": health_host,
            "log_level": log_level,
            "log_format": log_format,
            "log_stream": log_stream,
            "log_jobs": log_jobs,
        },
    )
    if not settings.enabled:
        say.print("workers are disabled (WORKER_ENABLED=false): starting nothing")
        raise typer.Exit(0)
    try:
        code = run_workers(
            lambda: _load(generator),
            settings,
            queues=queue or (),
            worker_names=worker or (),
        )
    except BullMQCodegenError as error:
        report(error)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    raise typer.Exit(code)


@workers_app.command()
def dev(
    config: ConfigOption = None,
    out: OutOption = None,
    queue: QueueOption = None,
    worker: WorkerOption = None,
    health_port: HealthPortOption = None,
    health_host: HealthHostOption = None,
    log_level: LogLevelOption = None,
    log_format: LogFormatOption = None,
    log_stream: LogStreamOption = None,
    log_jobs: LogJobsOption = None,
) -> None:
    """Run the workers with hot reload, for development.

    A change to a Python file regenerates the code and restarts the workers.
    """
    from ..runner.dev import run_dev

    flags: dict[str, object] = {
        "health_port": health_port,
        "health_host": health_host,
        "log_level": log_level,
        "log_format": log_format,
        "log_stream": log_stream,
        "log_jobs": log_jobs,
    }
    settings, generator = _prepare(config, out, flags)
    arguments: list[str] = []
    for name in queue or ():
        arguments += ["--queue", name]
    for name in worker or ():
        arguments += ["--worker", name]
    for name, value in flags.items():  # checked above: the child gets them as given
        option = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            arguments.append(option if value else f"--no-{option[2:]}")
        elif value is not None:
            arguments += [option, str(value)]
    raise typer.Exit(run_dev(generator, arguments, settings.graceful_shutdown_timeout))


def _load(generator: BullMQCodeGen) -> GeneratedWorkers:
    """The project's generated workers, checked against the definitions (imports the runtime)."""
    from ..runner.loading import load_generated_workers

    return load_generated_workers(generator)
