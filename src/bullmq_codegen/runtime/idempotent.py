"""Adding a job that may already exist (a ``jobId`` or a deduplication id), and saying so.

BullMQ's add scripts return the existing job's id when a job with the same
custom ``jobId`` exists or a deduplication id is still held; they do not say
whether that happened. Here the add runs in one ``MULTI``/``EXEC`` with a read
of what held that id just before, so the answer is exact even when other
producers add the same job at the same moment.
"""

from __future__ import annotations

from typing import cast

from redis.exceptions import NoScriptError, ResponseError

from ..definitions.options import JobOptions
from .adding import add_command, job_id_of
from .queue_context import QueueContext
from .resp import pack, text_reply

__all__ = ["add_job_reporting_duplicate"]


async def add_job_reporting_duplicate(
    ctx: QueueContext, name: str, data_json: str, opts: JobOptions
) -> tuple[str, bool]:
    """Add one job; its id, and whether that id is a job that existed before this call."""
    job_id = opts.get("jobId")
    deduplication = opts.get("deduplication")
    if not job_id and not deduplication:
        raise ValueError("add_job_reporting_duplicate needs a jobId or a deduplication id")
    probes: list[bytes] = []
    if job_id:
        probes.append(pack("EXISTS", ctx.job_key(job_id)))
    if deduplication:
        probes.append(pack("GET", f"{ctx.keys['']}de:{deduplication['id']}"))
    script, packed = add_command(ctx, name, data_json, opts)
    transaction = [pack("MULTI"), *probes, packed, pack("EXEC")]
    replies = await ctx.pipeline.execute_all(transaction)
    if _no_script(replies, len(probes)):
        await ctx.pipeline.execute(pack("SCRIPT", "LOAD", script.source))
        replies = await ctx.pipeline.execute_all(transaction)
    results = replies[-1]
    if isinstance(results, BaseException):
        raise results
    *held, added = results
    added_id = job_id_of(ctx, added)
    duplicate = False
    if job_id:
        duplicate = int(held.pop(0)) == 1  # the job existed: BullMQ returned its id
    if deduplication and not duplicate:
        before = held.pop(0)
        duplicate = before is not None and text_reply(before) == added_id
    return added_id, duplicate


def _no_script(replies: list[object], probes: int) -> bool:
    """Whether Redis lacked the add script (after a restart or ``SCRIPT FLUSH``)."""
    results = replies[-1]
    queued = replies[1 + probes]
    found = [queued, *(cast("list[object]", results) if isinstance(results, list) else ())]
    return any(_is_no_script(item) for item in found)


def _is_no_script(reply: object) -> bool:
    return isinstance(reply, NoScriptError) or (
        isinstance(reply, ResponseError) and str(reply).startswith("NOSCRIPT")
    )
