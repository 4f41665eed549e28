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

from .common import ConfigOption, OutOption, err, load_pyproject_table, report

__all__ = ["workers_app"]

workers_app = typer.Typer(help="Run the generated workers (production: start; development: dev).")

QueueOption = Annotated[
    list[str] | None,
    typer.Option("--queue", "-q", help="Run this queue's workers (repeatable; default all)."),
]
WorkerOption = Annotated[
    list[str] | None,
    typer.Option(
        "--worker",
        "-w",
        help="Run the queue of this worker (repeatable); a shared queue needs all its workers.",
    ),
]
HealthPortOption = Annotated[
    int | None,
    typer.Option(
        "--health-port", help="Serve /health/live, /health/ready, /health/workers, /metrics."
    ),
]
HealthHostOption = Annotated[
    str | None,
    typer.Option("--health-host", help="Address of the health server (default 127.0.0.1)."),
]


def _prepare(
    config: str | None, out: Path | None, health_port: int | None, health_host: str | None
) -> tuple[RunnerSettings, BullMQCodeGen]:
    """The runner's settings and the project's generator; exit 2 naming what is wrong."""
    from ..generator import BullMQCodeGen
    from ..runner import RunnerSettings, configure_logging

    configure_logging()
    try:
        settings = RunnerSettings.load(
            load_pyproject_table("workers"),
            os.environ,
            health_port=health_port,
            health_host=health_host,
        )
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
) -> None:
    """Run the workers until SIGTERM/SIGINT (graceful), a fatal error, or a second signal."""
    from ..runner import EXIT_BAD_INPUT, load_generated_workers, run_workers

    settings, generator = _prepare(config, out, health_port, health_host)
    if not settings.enabled:
        err.print("workers are disabled (WORKER_ENABLED=false): starting nothing")
        raise typer.Exit(0)
    try:
        workers = load_generated_workers(generator)
    except BullMQCodegenError as error:
        report(error)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    raise typer.Exit(run_workers(workers, settings, queues=queue or (), worker_names=worker or ()))


@workers_app.command()
def dev(
    config: ConfigOption = None,
    out: OutOption = None,
    queue: QueueOption = None,
    worker: WorkerOption = None,
    health_port: HealthPortOption = None,
    health_host: HealthHostOption = None,
) -> None:
    """Run the workers with hot reload: a change regenerates the code and restarts them."""
    from ..runner.dev import run_dev

    settings, generator = _prepare(config, out, health_port, health_host)
    arguments: list[str] = []
    for name in queue or ():
        arguments += ["--queue", name]
    for name in worker or ():
        arguments += ["--worker", name]
    if health_port is not None:
        arguments += ["--health-port", str(health_port)]
    if health_host is not None:
        arguments += ["--health-host", health_host]
    raise typer.Exit(run_dev(generator, arguments, settings.graceful_shutdown_timeout))
