"""``bullmq-codegen workers start|dev``: run the generated workers of the project."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from ..errors import BullMQCodegenError
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


def _settings(health_port: int | None, health_host: str | None):  # type: ignore[no-untyped-def]
    from ..runner import RunnerSettings

    return RunnerSettings.load(
        load_pyproject_table("workers"),
        os.environ,
        health_port=health_port,
        health_host=health_host,
    )


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
    from ..generator import BullMQCodeGen
    from ..runner import EXIT_BAD_INPUT, configure_logging, load_generated_workers, run_workers

    configure_logging()
    try:
        settings = _settings(health_port, health_host)
        if not settings.enabled:
            err.print("workers are disabled (WORKER_ENABLED=false): starting nothing")
            raise typer.Exit(0)
        generator = BullMQCodeGen.from_project(config=config, out_dir=out)
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
    from ..generator import BullMQCodeGen
    from ..runner import configure_logging
    from ..runner.dev import run_dev

    configure_logging()
    try:
        settings = _settings(health_port, health_host)
        generator = BullMQCodeGen.from_project(config=config, out_dir=out)
    except BullMQCodegenError as error:
        report(error)
        raise typer.Exit(2) from None
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
