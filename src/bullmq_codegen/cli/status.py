"""``bullmq-codegen status``: the dashboard's overview in the terminal (``--watch``: live)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import BullMQCodegenError
from .common import ConfigOption, OutOption, fail, report, say

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Group
    from rich.text import Text

    from ..dashboard.overview import Overview
    from ..runtime.registry import Runtime

__all__ = ["generated_runtime", "status"]


def status(
    config: ConfigOption = None,
    out: OutOption = None,
    watch: Annotated[
        bool, typer.Option("--watch", "-w", help="Keep the table up to date until Ctrl-C.")
    ] = False,
    interval: Annotated[
        float,
        typer.Option("--interval", metavar="SECONDS", min=0.2, help="Seconds between updates."),
    ] = 2.0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (with --watch: one object per line).")
    ] = False,
) -> None:
    """Show every queue: counts by state, the last hour's completions and failures, workers alive.

    Exit 0; 2 when the definitions cannot be read or Redis cannot at the start (a watch then
    says Redis is unreachable and tries again until it answers).
    """
    from ..runtime.connection import describe_connection, is_connection_error

    runtime = generated_runtime(config, out)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_show(runtime, watch=watch, interval=interval, as_json=as_json))
    except Exception as error:
        if not is_connection_error(error):
            raise
        fail(f"Redis at {describe_connection(runtime.config.connection)} unreachable: {error}")
        raise typer.Exit(2) from None


def generated_runtime(config: str | None, out: Path | None) -> Runtime:
    """The runtime of the project's generated code, checked current as ``workers start`` checks
    it; exit 2 naming what is wrong."""
    from ..generator import BullMQCodeGen
    from ..runner import load_generated_workers

    try:
        return load_generated_workers(
            BullMQCodeGen.from_project(config=config, out_dir=out)
        ).runtime
    except BullMQCodegenError as error:
        report(error)
        raise typer.Exit(2) from None


async def _show(runtime: Runtime, *, watch: bool, interval: float, as_json: bool) -> None:
    from rich.live import Live

    from ..dashboard.kinds import JobKinds
    from ..dashboard.overview import read_overview
    from ..runtime.worker.maintenance import stopped_within

    queues = JobKinds(runtime.config).queues
    stopped = _stop_on_signals() if watch else asyncio.Event()
    try:
        overview = await read_overview(runtime, queues)  # Redis down at first: exit 2
        if as_json:
            say.out(json.dumps(overview.to_json(), indent=None if watch else 2))
            while watch and not await stopped_within(stopped, interval):
                read = await _read_watched(runtime, queues)
                say.out(json.dumps(read if isinstance(read, dict) else read.to_json()))
            return
        if not watch:
            say.print(_table(overview))
            return
        with Live(_table(overview), console=say.rich, auto_refresh=False) as live:
            while not await stopped_within(stopped, interval):
                read = await _read_watched(runtime, queues)
                shown = _down(read, interval) if isinstance(read, dict) else _table(read)
                live.update(shown, refresh=True)
    finally:
        await runtime.close()


def _stop_on_signals() -> asyncio.Event:
    """An event set by Ctrl-C (SIGINT) or SIGTERM: a watch ends between two reads.

    Not by cancelling what runs: redis-py's asyncio client can lose a task's cancellation
    (seen with redis-py 8.1 on Python 3.11), and the watch then ran on after Ctrl-C.
    """
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
            loop.add_signal_handler(signum, stopped.set)
    return stopped


async def _read_watched(runtime: Runtime, queues: list[str]) -> Overview | dict[str, Any]:
    """The overview, or while Redis is unreachable what a watch shows instead and goes on."""
    from ..dashboard.overview import read_overview
    from ..runtime.connection import describe_connection, is_connection_error

    try:
        return await read_overview(runtime, queues)
    except Exception as error:
        if not is_connection_error(error):
            raise
        where = describe_connection(runtime.config.connection)
        return {
            "checkedAt": int(time.time() * 1000),
            "error": f"Redis at {where} unreachable: {error}",
        }


def _down(read: dict[str, Any], interval: float) -> Text:
    from rich.text import Text

    from ..dashboard.jobs import moment

    return Text(
        f"{moment(read['checkedAt'])}: {read['error']}; trying again every {interval:g} s",
        style="bold red",
    )


def _table(overview: Overview) -> Group:
    """The queues, then the workers alive on them: readable in an 80-column terminal."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from ..dashboard.display import percent
    from ..dashboard.jobs import moment

    queues = Table(
        title=f"queues at {moment(overview.checked_at)}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        padding=0,
    )
    longest = max((len(queue.name) for queue in overview.queues), default=5)
    queues.add_column("queue", min_width=longest, overflow="fold")
    for heading in ("wait", "active", "delay", "prio", "done", "failed", "workers"):
        queues.add_column(heading, justify="right", min_width=len(heading))
    queues.add_column("last hour", justify="right")
    queues.add_column("fail rate", justify="right")
    workers = Table(
        title="workers alive",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        padding=(0, 1, 0, 0),
    )
    for heading in ("queue", "host", "pid", "concurrency", "state"):
        workers.add_column(
            heading, justify="right" if heading in ("pid", "concurrency") else "left"
        )
    for queue in overview.queues:
        counts = queue.counts
        hour = f"{queue.completed_last_hour}/{queue.failed_last_hour}"
        queues.add_row(
            queue.name + (" (paused)" if queue.paused else ""),
            str(counts.waiting + counts.paused),
            str(counts.active),
            str(counts.delayed),
            str(counts.prioritized),
            str(counts.completed),
            str(counts.failed),
            str(len(queue.alive)),
            hour if queue.metrics_recorded else f"{hour}*",
            percent(queue.failure_rate),
        )
        for worker in queue.alive:
            workers.add_row(
                queue.name,
                worker["host"],
                str(worker["pid"]),
                str(worker["concurrency"]),
                worker["state"],
            )
    note = Text("last hour: completed/failed (*: since the workers started, no BullMQ metrics)")
    return Group(queues, note, workers) if workers.row_count else Group(queues, note)
