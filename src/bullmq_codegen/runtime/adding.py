"""Adding a job the way bullmq does, in one pipelined script call.

The arguments are bullmq-py's (``Scripts.addJobArgs``): the same msgpacked
argument array, the JSON data, the msgpacked options with bullmq's defaults and
short keys, so the stored job is the one ``Queue.add`` would store. The JSON
comes straight from Pydantic: it is not decoded and encoded again.
"""

from __future__ import annotations

import time

import msgpack

from ..definitions.options import JobOptions
from .queue_context import QueueContext
from .resp import ScriptCommand, pack
from .wire import encode_opts

__all__ = ["add_command", "add_job", "add_jobs", "job_id_of"]


def add_command(
    ctx: QueueContext, name: str, data_json: str, opts: JobOptions
) -> tuple[ScriptCommand, bytes]:
    timestamp = opts.get("timestamp") or int(time.time() * 1000)
    deduplication = opts.get("deduplication")
    arguments = msgpack.packb(
        [
            ctx.keys[""],
            opts.get("jobId") or "",
            name,
            timestamp,
            None,
            None,
            None,
            None,
            f"{ctx.keys['']}de:{deduplication['id']}" if deduplication else None,
        ],
        use_bin_type=True,
    )
    if opts.get("delay"):
        script = ctx.add_scripts["addDelayedJob"]
    elif opts.get("priority"):
        script = ctx.add_scripts["addPrioritizedJob"]
    else:
        script = ctx.add_scripts["addStandardJob"]
    packed_opts = msgpack.packb(encode_opts(opts), use_bin_type=True)
    return script, script.packed(None, [arguments, data_json, packed_opts])


def job_id_of(ctx: QueueContext, result: object) -> str:
    if isinstance(result, BaseException):
        raise result
    if isinstance(result, int) and result < 0:
        raise ctx.backend.scripts.finishedErrors({"code": result, "command": "addJob"})
    return str(result)


async def add_job(ctx: QueueContext, name: str, data_json: str, opts: JobOptions) -> str:
    """Add one job; its id (the existing job's id when ``jobId`` or deduplication matched)."""
    script, packed = add_command(ctx, name, data_json, opts)
    return job_id_of(ctx, await ctx.pipeline.run_script(script, packed))


async def add_jobs(
    ctx: QueueContext, name: str, data_jsons: list[str], opts: JobOptions
) -> list[str]:
    """Add several jobs in one ``MULTI``/``EXEC`` transaction (all or none); their ids.

    The scripts are loaded in the same round trip first, so Redis cannot miss
    one inside the transaction.
    """
    calls = [add_command(ctx, name, data_json, opts) for data_json in data_jsons]
    scripts = {script.source: script for script, _ in calls}
    loads = [pack("SCRIPT", "LOAD", source) for source in scripts]
    replies = await ctx.pipeline.execute_all(
        [*loads, pack("MULTI"), *(packed for _, packed in calls), pack("EXEC")]
    )
    for reply in replies[: len(loads) + 1 + len(calls)]:
        if isinstance(reply, BaseException):
            raise reply
    results = replies[-1]
    if isinstance(results, BaseException):
        raise results
    return [job_id_of(ctx, result) for result in results]
