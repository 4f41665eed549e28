"""Adding jobs the way bullmq does: one pipelined script call each, bulks in bounded
transactions.

The arguments are bullmq-py's (``Scripts.addJobArgs``): the same msgpacked
argument array, the JSON data, the msgpacked options with bullmq's defaults and
short keys, so the stored job is the one ``Queue.add`` would store. The JSON
comes straight from Pydantic: it is not decoded and encoded again.

**What all-or-none means for a bulk.** A bulk is added in chunks of
``chunk_size`` jobs, each one ``MULTI``/``EXEC`` transaction, one chunk in
flight at a time: Redis is never blocked for longer than one chunk takes (a
single transaction of 100,000 jobs blocks every other client for seconds) and
the client holds one chunk's commands, not the whole bulk's. Each chunk is
added whole or not at all; a bulk that fits in one chunk is all-or-none, in
one round trip. When Redis fails part way, :class:`BulkEnqueueError` says how
far it got: the ids of the items added and the index to resume from, so that
resuming adds nothing twice. A connection lost while a chunk's ``EXEC`` was in
flight leaves Redis's side unknown; a marker written inside the transaction
settles it (asked again on a fresh connection), and with it the ids the chunk
got.

redis-py's exceptions are imported where they are caught (every path there has
sent through a connection, so redis-py is loaded by then), not when the producers
import this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Iterable, Iterator, Sequence, Sized
from itertools import islice
from typing import cast

import msgpack

from ..definitions.options import JobOptions
from ..errors import BullMQCodegenError
from .queue_context import QueueContext
from .resp import ScriptCommand, pack
from .wire import encode_opts

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "BulkEnqueueError",
    "add_command",
    "add_job",
    "add_jobs",
    "job_id_of",
]


def add_command(
    ctx: QueueContext, name: str, data_json: str, opts: JobOptions
) -> tuple[ScriptCommand, bytes]:
    """The add script for ``opts`` (standard, delayed or prioritized) and its encoded call."""
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
    """The job id an add script replied, or the error it stands for (raised)."""
    if isinstance(result, BaseException):
        raise result
    if isinstance(result, int) and result < 0:
        raise ctx.backend.scripts.finishedErrors({"code": result, "command": "addJob"})
    return str(result)


async def add_job(ctx: QueueContext, name: str, data_json: str, opts: JobOptions) -> str:
    """Add one job; its id (the existing job's id when ``jobId`` or deduplication matched)."""
    script, packed = add_command(ctx, name, data_json, opts)
    return job_id_of(ctx, await ctx.pipeline.run_script(script, packed))


DEFAULT_CHUNK_SIZE = 250
"""Jobs per transaction of a bulk: a few milliseconds of Redis time (each add takes some
ten microseconds on an idle Redis, more on a busy host), round trips still amortised."""

_MARKER_TTL_MS = 60_000
"""How long a chunk's marker lives: long enough to be asked for after a lost connection."""

_SETTLE_ATTEMPTS = 10
"""Tries, 0.5 s apart, to ask a fresh connection whether a chunk in doubt was added."""

# Records the id counter before the chunk's adds: each add increments it once, so a
# chunk's auto ids are counter + 1, + 2, ... (one transaction: nothing interleaves).
_MARKER_SCRIPT = (
    "redis.call('SET', KEYS[2], redis.call('GET', KEYS[1]) or '0', 'PX', ARGV[1]) return 1"
)


class BulkEnqueueError(BullMQCodegenError):
    """Redis failed part way through a bulk; the items before ``resume_index`` were added.

    ``job_ids`` are their ids, in order. Add ``items[resume_index:]`` to
    finish the bulk without adding anything twice. ``in_doubt`` is true only
    when a connection was lost while a chunk was being added and Redis could
    not be asked afterwards whether it was: that chunk (the items from
    ``resume_index`` on, at most ``chunk_size`` of them) may have been added.
    ``failed`` maps the index of an item whose add script failed while the
    others of its chunk were added to Redis's error (the chunk counts as added).
    """

    def __init__(
        self,
        queue: str,
        job_ids: list[str | None],
        *,
        cause: BaseException,
        in_doubt: bool = False,
        failed: dict[int, str] | None = None,
    ) -> None:
        self.queue = queue
        self.job_ids = job_ids
        self.resume_index = len(job_ids)
        self.in_doubt = in_doubt
        self.failed = failed or {}
        doubt = (
            " (the next chunk may have been added: Redis could not be asked)" if in_doubt else ""
        )
        items = f"; items {sorted(self.failed)} failed" if self.failed else ""
        super().__init__(
            f"bulk add to queue {queue!r} stopped at item {self.resume_index}{doubt}{items}: "
            f"{cause}; the items before it were added, resume from index {self.resume_index}"
        )


def _pairs(
    data_jsons: Iterable[str], opts: JobOptions | Sequence[JobOptions]
) -> Iterator[tuple[str, JobOptions]]:
    if not isinstance(opts, Sequence):
        return ((data_json, opts) for data_json in data_jsons)
    items = data_jsons if isinstance(data_jsons, Sized) else list(data_jsons)
    if len(items) != len(opts):
        raise ValueError(
            f"add_jobs: {len(opts)} per-job options for {len(items)} jobs; give one per job"
        )
    return zip(items, opts, strict=True)


def _failure(ctx: QueueContext, result: object) -> str | None:
    """What went wrong adding one job of a transaction, or ``None`` when it was added."""
    if isinstance(result, BaseException):
        return str(result)
    if isinstance(result, int) and result < 0:
        return str(ctx.backend.scripts.finishedErrors({"code": result, "command": "addJob"}))
    return None


class _Chunk:
    """One chunk's transaction: its marker, its adds, the previous chunk's marker removed."""

    __slots__ = ("commands", "items", "marker")

    def __init__(
        self,
        ctx: QueueContext,
        name: str,
        items: list[tuple[str, JobOptions]],
        previous: _Chunk | None,
    ) -> None:
        self.items = items
        self.marker = f"{ctx.keys['']}bcg-bulk:{secrets.token_hex(8)}"
        calls = [add_command(ctx, name, data_json, opts) for data_json, opts in items]
        # The scripts are loaded in the same round trip, so none can be missing inside.
        sources = dict.fromkeys(script.source for script, _ in calls)
        self.commands = [pack("SCRIPT", "LOAD", source) for source in sources]
        self.commands.append(pack("MULTI"))
        self.commands.append(
            pack("EVAL", _MARKER_SCRIPT, 2, ctx.keys["id"], self.marker, _MARKER_TTL_MS)
        )
        self.commands.extend(packed for _, packed in calls)
        if previous is not None:
            self.commands.append(pack("DEL", previous.marker))
        self.commands.append(pack("EXEC"))

    def results(self, replies: list[object]) -> list[object]:
        """The adds' replies; raises what stopped the transaction."""
        from redis.exceptions import ExecAbortError, ResponseError

        results = replies[-1]
        if isinstance(results, ExecAbortError):  # refused while queueing: nothing ran
            raise next(r for r in replies if isinstance(r, ResponseError))
        if isinstance(results, BaseException):  # a lost connection: nobody knows yet
            raise results
        assert isinstance(results, list)
        return cast("list[object]", results)[1 : 1 + len(self.items)]


async def add_jobs(
    ctx: QueueContext,
    name: str,
    data_jsons: Iterable[str],
    opts: JobOptions | Sequence[JobOptions],
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> list[str]:
    """Add a job per JSON text of ``data_jsons``; their ids, in order.

    ``opts`` is the options of every job, or a sequence of per-job options as
    long as ``data_jsons``. The jobs go in transactions of ``chunk_size``, one
    at a time (see the module's docs): a bulk of at most ``chunk_size`` jobs
    is added whole or not at all, in one round trip; a larger one raises
    :class:`BulkEnqueueError`, saying where to resume, when Redis fails part
    way. ``data_jsons`` may be a generator: it is read a chunk at a time (the
    next chunk is encoded while Redis runs the current one).
    """
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import ResponseError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    if chunk_size < 1:
        raise ValueError(f"add_jobs: chunk_size must be >= 1, not {chunk_size}")
    pairs = _pairs(data_jsons, opts)
    job_ids: list[str] = []
    items = list(islice(pairs, chunk_size))
    chunk = _Chunk(ctx, name, items, None) if items else None
    while chunk is not None:
        sending = asyncio.ensure_future(ctx.pipeline.execute_all(chunk.commands))
        for _ in range(2):  # the task queues the commands, then a loop turn writes them
            await asyncio.sleep(0)
        upcoming: _Chunk | None = None
        unreadable: Exception | None = None
        try:
            following = list(islice(pairs, chunk_size))
            upcoming = _Chunk(ctx, name, following, chunk) if following else None
        except Exception as error:  # raised by data_jsons or the options: stop after this one
            unreadable = error
        try:
            results = chunk.results(await sending)
        except (RedisConnectionError, RedisTimeoutError, OSError) as error:
            settled = await _settle(ctx, chunk)
            if settled is None:
                raise BulkEnqueueError(ctx.name, [*job_ids], cause=error, in_doubt=True) from error
            raise BulkEnqueueError(ctx.name, [*job_ids, *settled], cause=error) from error
        except ResponseError as error:
            raise BulkEnqueueError(ctx.name, [*job_ids], cause=error) from error
        job_ids.extend(_added(ctx, results, job_ids))
        if unreadable is not None:
            raise BulkEnqueueError(ctx.name, [*job_ids], cause=unreadable) from unreadable
        if upcoming is None:  # the last chunk's marker: no one needs it any more
            await ctx.pipeline.execute(pack("DEL", chunk.marker))
        chunk = upcoming
    return job_ids


def _added(ctx: QueueContext, results: list[object], before: list[str]) -> list[str]:
    """The ids of a chunk that ran; raises :class:`BulkEnqueueError` when an add failed."""
    failures = {i: f for i, r in enumerate(results) if (f := _failure(ctx, r)) is not None}
    if not failures:
        return [str(result) for result in results]
    cause = RuntimeError(next(iter(failures.values())))
    if len(failures) == len(results):  # every add refused before writing (OOM): none ran
        raise BulkEnqueueError(ctx.name, [*before], cause=cause)
    raise BulkEnqueueError(
        ctx.name,
        [*before, *(None if i in failures else str(r) for i, r in enumerate(results))],
        cause=cause,
        failed={len(before) + i: failure for i, failure in failures.items()},
    )


async def _settle(ctx: QueueContext, chunk: _Chunk) -> list[str] | None:
    """Whether a chunk whose reply was lost was added: its ids if so, ``[]`` if not,
    ``None`` when Redis cannot be asked."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    for attempt in range(_SETTLE_ATTEMPTS):
        with contextlib.suppress(RedisConnectionError, RedisTimeoutError, OSError):
            base = await ctx.client.get(chunk.marker)
            if base is None:
                return []
            return [
                await _settled_id(ctx, int(base) + i + 1, opts)
                for i, (_, opts) in enumerate(chunk.items)
            ]
        if attempt + 1 < _SETTLE_ATTEMPTS:
            await asyncio.sleep(0.5)
    return None


async def _settled_id(ctx: QueueContext, counter: int, opts: JobOptions) -> str:
    if job_id := opts.get("jobId"):
        return job_id
    if deduplication := opts.get("deduplication"):
        holder = await ctx.client.get(f"{ctx.keys['']}de:{deduplication['id']}")
        return str(holder) if holder is not None else str(counter)
    return str(counter)
