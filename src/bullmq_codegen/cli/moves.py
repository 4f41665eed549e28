"""``bullmq-codegen moved``: are the job names moved to another queue drained from the old one?"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import typer

from ..errors import BullMQCodegenError
from .common import ConfigOption, OutOption, fail, report, say

if TYPE_CHECKING:
    from ..runtime.moves import MovedJobs

__all__ = ["moved"]

EXIT_JOBS_LEFT = 1


def moved(config: ConfigOption = None, out: OutOption = None) -> None:
    """Count the jobs of each moved job name (movedFrom) still in the queue it left.

    Exit 0 when none is left anywhere (every movedFrom can be removed), 1 while some are,
    2 when the definitions or Redis cannot be read.
    """
    from ..generator import BullMQCodeGen
    from ..runner import load_generated_workers
    from ..runtime.connection import describe_connection, is_connection_error
    from ..runtime.moves import moved_jobs_left

    try:
        workers = load_generated_workers(BullMQCodeGen.from_project(config=config, out_dir=out))
    except BullMQCodegenError as error:
        report(error)
        raise typer.Exit(2) from None
    runtime = workers.runtime

    async def count() -> list[MovedJobs]:
        try:
            return await moved_jobs_left(runtime)
        finally:
            await runtime.close()

    try:
        found = asyncio.run(count())
    except Exception as error:
        if not is_connection_error(error):
            raise
        where = describe_connection(runtime.config.connection)
        fail(f"Redis at {where} unreachable: {error}")
        raise typer.Exit(2) from None
    if not found:
        say.print("no worker declares movedFrom: nothing to drain")
        return
    for jobs in found:
        say.print(_line(jobs))
    if any(jobs.total for jobs in found):
        raise typer.Exit(EXIT_JOBS_LEFT)


def _line(jobs: MovedJobs) -> str:
    where = f"queue {jobs.former!r} (moved to {jobs.queue!r})"
    if not jobs.total:
        return f"{jobs.name}: none left in {where}: its movedFrom can be removed"
    states = ", ".join(f"{state} {count}" for state, count in sorted(jobs.left.items()))
    return f"{jobs.name}: {jobs.total} left in {where} ({states}): keep movedFrom"
