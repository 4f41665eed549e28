"""Flows: a parent job that runs once its children, in any queues, have completed.

A flow is stored as BullMQ's ``FlowProducer.add`` stores it, so Node and our
workers read the same tree: the parent in its queue's ``waiting-children`` set
with a ``:dependencies`` set of its children's keys, each child with
``parentKey`` and ``parent`` fields (the ``parent`` JSON carries the child's
failure policy, ``fpof``/``idof``/``rdof``/``cpof``) and ``parent`` in its
options. As each child completes, BullMQ moves it from the parent's
``:dependencies`` to its ``:processed`` hash (child key → JSON result); the
parent moves to ``wait`` when none is left, and its processor reads the
results with ``job.children_values()`` or ``job.children_results(Type)``.

The whole tree is added in one ``MULTI``/``EXEC`` transaction, so no one sees
part of it. As with BullMQ, a child whose ``jobId`` matches an existing job is
not added again (its handle carries the existing job's id and says it is a
duplicate; the existing job becomes the parent's dependency), and a child
whose ``jobId`` is already another parent's child is refused by BullMQ's
script while the rest of the tree is added: that one case raises
:class:`FlowError` after the fact, as Node's ``FlowProducer`` throws.

Deduplication is refused in a flow of more than one job: BullMQ does not make
a deduplicated child a dependency of its parent (the parent would wait
forever) nor give a deduplicated parent's children a parent.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic

import msgpack
from pydantic import TypeAdapter
from typing_extensions import TypeVar

from ..definitions.options import JobOptions
from ..errors import BullMQCodegenError
from .handles import EnqueuedJob
from .queue import QueueHandle
from .queue_context import QueueContext
from .resp import ScriptCommand, pack
from .results import ResultType
from .wire import encode_opts

__all__ = ["FlowError", "FlowJob", "FlowNode", "add_flow"]

P_co = TypeVar("P_co", covariant=True)
P = TypeVar("P")
R = TypeVar("R")
G = TypeVar("G", default=float)

_POLICIES = (
    ("failParentOnFailure", "fpof"),
    ("ignoreDependencyOnFailure", "idof"),
    ("removeDependencyOnFailure", "rdof"),
    ("continueParentOnFailure", "cpof"),
)


class FlowError(BullMQCodegenError, ValueError):
    """A flow that cannot be added as given; its message says which node and why."""


class FlowNode(Generic[P_co, R, G]):
    """One job of a flow: where it goes, what it carries, and the children it waits for.

    ``P_co``, ``R`` and ``G`` are the payload, result and progress types of its
    job name, as its producer's.
    ``data`` is the payload's JSON as sent and ``options`` the job options
    already merged (a producer's ``node()`` builds both, validated). A node
    with children is a parent: it runs once every child has completed, or as
    the children's failure policies (``failParentOnFailure``...) decide.
    """

    __slots__ = ("children", "data", "name", "options", "payload", "progress", "queue", "result")

    def __init__(
        self,
        *,
        queue: QueueHandle,
        name: str,
        payload: P_co,
        data: str,
        options: JobOptions,
        result: ResultType[R],
        progress: TypeAdapter[G],
        children: Sequence[FlowNode[Any, Any, Any]] = (),
    ) -> None:
        self.queue = queue
        self.name = name
        self.payload = payload
        self.data = data
        self.options = options
        self.result = result
        self.progress = progress
        self.children: tuple[FlowNode[Any, Any, Any], ...] = tuple(children)
        policies = [key for key, _ in _POLICIES if options.get(key)]
        if len(policies) > 1:
            raise FlowError(
                f"flow node {name!r} (queue {queue.name!r}) sets {', '.join(policies)}: "
                "a child has one failure policy at most"
            )

    def __repr__(self) -> str:
        return (
            f"FlowNode(queue={self.queue.name!r}, name={self.name!r}, "
            f"children={len(self.children)})"
        )


@dataclass(frozen=True, slots=True)
class FlowJob(Generic[P_co, R, G]):
    """The jobs of an added flow: the node's own job and its children's, in the tree's shape."""

    job: EnqueuedJob[P_co, R, G]
    """This node's job."""
    children: tuple[FlowJob[Any, Any, Any], ...]
    """The children's jobs, in the order their nodes were given."""

    def walk(self) -> Iterator[FlowJob[Any, Any, Any]]:
        """This node, then its descendants depth first (the order they were added in)."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(slots=True)
class _Entry:
    node: FlowNode[Any, Any, Any]
    ctx: QueueContext
    job_id: str
    parent: dict[str, Any] | None
    children: list[_Entry]


async def add_flow(root: FlowNode[P, R, G]) -> FlowJob[P, R, G]:
    """Add ``root`` and all its descendants in one transaction; their handles.

    Raises :class:`FlowError`, having added nothing, when a node is of another
    runtime's connection than the root's (or, on a cluster, of another hash slot) or two nodes of a queue have one
    ``jobId``.
    """
    tree = _plan(root, None)
    entries = list(_flatten(tree))
    pipeline = tree.ctx.pipeline
    seen: dict[str, FlowNode[Any, Any, Any]] = {}
    for entry in entries:
        if entry.ctx.pipeline is not pipeline:
            raise FlowError(
                f"flow node {entry.node.name!r} (queue {entry.node.queue.name!r}) is of another "
                f"connection than the root {root.name!r}, or on a Redis Cluster of another hash "
                "slot: a flow is added in one transaction (on a cluster, a hash-tagged prefix "
                "such as '{bull}' puts every queue in one slot)"
            )
        custom = entry.node.options.get("jobId")
        key = f"{entry.node.queue.name}:{custom}"
        if custom and key in seen:
            raise FlowError(
                f"two nodes of the flow ({seen[key].name!r} and {entry.node.name!r}) have "
                f"jobId {custom!r} in queue {entry.node.queue.name!r}"
            )
        seen[key] = entry.node
    calls = [_command(entry) for entry in entries]
    scripts = {script.source: script for script, _ in calls}
    loads = [pack("SCRIPT", "LOAD", source) for source in scripts]
    probes = [_probe(entry) for entry in entries]
    body = [
        command
        for probe, (_, packed) in zip(probes, calls, strict=True)
        for command in ((packed,) if probe is None else (probe, packed))
    ]
    replies = await pipeline.execute_all([*loads, pack("MULTI"), *body, pack("EXEC")])
    for reply in replies[: len(loads) + 1 + len(body)]:
        if isinstance(reply, BaseException):
            raise reply
    results = replies[-1]
    if isinstance(results, BaseException):
        raise results
    added: dict[int, tuple[str, bool]] = {}
    position = 0
    for entry, probe in zip(entries, probes, strict=True):
        held = None
        if probe is not None:
            held = results[position]
            position += 1
        job_id = _job_id(entry, results[position])
        position += 1
        added[id(entry)] = (job_id, _existed(entry, held, job_id))
    return _handles(tree, added)


def _plan(node: FlowNode[Any, Any, Any], parent: _Entry | None) -> _Entry:
    if "deduplication" in node.options and (parent is not None or node.children):
        raise FlowError(
            f"flow node {node.name!r} (queue {node.queue.name!r}) has deduplication: BullMQ "
            "would not link a deduplicated job to its parent or children (set a jobId instead)"
        )
    ctx = node.queue.context()
    link: dict[str, Any] | None = None
    if parent is not None:
        link = {"id": parent.job_id, "queueKey": parent.ctx.qualifiedName}
        for key, short in _POLICIES:
            if node.options.get(key):
                link[short] = True
    entry = _Entry(
        node=node,
        ctx=ctx,
        job_id=node.options.get("jobId") or str(uuid.uuid4()),
        parent=link,
        children=[],
    )
    entry.children = [_plan(child, entry) for child in node.children]
    return entry


def _flatten(entry: _Entry) -> Iterator[_Entry]:
    yield entry
    for child in entry.children:
        yield from _flatten(child)


def _command(entry: _Entry) -> tuple[ScriptCommand, bytes]:
    """The add script call of one node, with bullmq's arguments (parents before children)."""
    ctx, options = entry.ctx, entry.node.options
    parent_key = dependencies = None
    if entry.parent is not None:
        parent_key = f"{entry.parent['queueKey']}:{entry.parent['id']}"
        dependencies = f"{parent_key}:dependencies"
    deduplication = options.get("deduplication")
    arguments = msgpack.packb(
        [
            ctx.keys[""],
            entry.job_id,
            entry.node.name,
            options.get("timestamp") or int(time.time() * 1000),
            parent_key,
            dependencies,
            entry.parent,
            None,
            f"{ctx.keys['']}de:{deduplication['id']}" if deduplication else None,
        ],
        use_bin_type=True,
    )
    stored = encode_opts(options)
    if entry.parent is not None:
        # Node's FlowProducer keeps the parent in the child's options too.
        stored["parent"] = {"id": entry.parent["id"], "queue": entry.parent["queueKey"]}
    if entry.children:
        script = ctx.add_scripts["addParentJob"]
    elif options.get("delay"):
        script = ctx.add_scripts["addDelayedJob"]
    elif options.get("priority"):
        script = ctx.add_scripts["addPrioritizedJob"]
    else:
        script = ctx.add_scripts["addStandardJob"]
    packed_opts = msgpack.packb(stored, use_bin_type=True)
    return script, script.packed(None, [arguments, entry.node.data, packed_opts])


def _probe(entry: _Entry) -> bytes | None:
    """What tells whether the node's job already exists: its custom id, its deduplication id."""
    options = entry.node.options
    if options.get("jobId"):
        return pack("EXISTS", entry.ctx.job_key(entry.job_id))
    deduplication = options.get("deduplication")
    if deduplication:
        return pack("GET", f"{entry.ctx.keys['']}de:{deduplication['id']}")
    return None


def _existed(entry: _Entry, held: object, job_id: str) -> bool:
    if entry.node.options.get("jobId"):
        return held == 1
    if isinstance(held, bytes):
        held = held.decode()
    return held is not None and str(held) == job_id


def _job_id(entry: _Entry, result: object) -> str:
    if isinstance(result, BaseException):
        raise result
    if isinstance(result, int) and result < 0:
        error = entry.ctx.backend.scripts.finishedErrors(
            {"code": result, "command": "addJob", "jobId": entry.job_id}
        )
        raise FlowError(
            f"flow node {entry.node.name!r} (queue {entry.node.queue.name!r}, job "
            f"{entry.job_id}) was refused by BullMQ, the rest of the flow added: {error}"
        )
    return str(result)


def _handles(entry: _Entry, added: dict[int, tuple[str, bool]]) -> FlowJob[Any, Any, Any]:
    node = entry.node
    job_id, duplicate = added[id(entry)]
    job: EnqueuedJob[Any, Any, Any] = EnqueuedJob(
        queue=node.queue,
        id=job_id,
        name=node.name,
        payload=node.payload,
        options=node.options,
        result=node.result,
        progress=node.progress,
        duplicate=duplicate,
    )
    return FlowJob(job=job, children=tuple(_handles(child, added) for child in entry.children))
