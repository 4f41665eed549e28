"""The definitions API: ``create_queue_config`` and the shapes it takes.

A definitions module builds one :class:`QueueConfig` at module level::

    queue_config = create_queue_config(
        queues={
            "emailSend": {
                "options": {"defaultJobOptions": {"attempts": 3}},
                "workers": {
                    "afterSignUpEmail": {
                        "schema": EmailSend,
                        "processor": send_email,
                        "options": {"concurrency": 5},
                    },
                },
            },
        },
        connection={"host": os.environ.get("REDIS_HOST", "localhost")},
    )

The dicts are TypedDicts, so the editor checks every key; ``create_queue_config``
validates them again at run time and raises one :class:`DefinitionError` that
lists every problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..errors import DefinitionError
from .connection import ConnectionSpec
from .shapes import QueueDefinition, WorkerDefinition
from .validation import validate_definitions

__all__ = ["DEFAULT_PREFIX", "QueueConfig", "create_queue_config"]

DEFAULT_PREFIX = "bull"
"""BullMQ's default key prefix (Node and Python alike)."""


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """Validated queue definitions and the Redis connection they use.

    Build it with :func:`create_queue_config`; generated code reads it at run
    time, so changing an option needs no regeneration (adding a queue or a
    worker does).
    """

    queues: Mapping[str, QueueDefinition]
    connection: ConnectionSpec = field(repr=False)
    prefix: str = DEFAULT_PREFIX

    def queue(self, name: str) -> QueueDefinition:
        """The definition of queue ``name`` (``KeyError`` naming the known queues otherwise)."""
        try:
            return self.queues[name]
        except KeyError:
            known = ", ".join(sorted(self.queues)) or "none"
            raise KeyError(f"no queue {name!r} in the definitions (known: {known})") from None

    def redis_name(self, queue: str) -> str:
        """The name ``queue`` goes by in Redis (keys ``<prefix>:<name>:...``) and to Node BullMQ.

        The queue name itself; on a Redis Cluster (``cluster`` in the connection) under a
        prefix without a hash tag, the name hash-tagged, ``{emails}``: each queue then owns a
        hash slot of its own, as with Node's ``new Queue('{emails}')``. A hash-tagged prefix
        (``{bull}``) keeps every queue in the slot of that tag, under its own name.
        """
        clustered = not isinstance(self.connection, str) and self.connection.get("cluster")
        if clustered and not _has_hash_tag(self.prefix) and not _has_hash_tag(queue):
            return "{" + queue + "}"
        return queue

    def moved_from(self) -> dict[str, str]:
        """Job name → the queue it moved from, for every worker that declares ``movedFrom``."""
        return {
            name: worker["movedFrom"]
            for queue in self.queues.values()
            for name, worker in queue["workers"].items()
            if "movedFrom" in worker
        }

    def served_queue(self, name: str) -> None:
        """Refuse ``name`` unless it is a queue of the definitions or one a job name moved from
        (``KeyError`` naming the known ones)."""
        if name not in self.queues and name not in self.moved_from().values():
            self.queue(name)

    def worker(self, queue: str, name: str) -> WorkerDefinition:
        """The definition of worker ``name`` of queue ``queue``."""
        workers = self.queue(queue)["workers"]
        try:
            return workers[name]
        except KeyError:
            known = ", ".join(sorted(workers)) or "none"
            raise KeyError(f"no worker {name!r} in queue {queue!r} (known: {known})") from None


def _has_hash_tag(name: str) -> bool:
    """Whether Redis Cluster hashes ``name`` by a tag (a non-empty ``{...}``), not whole."""
    start = name.find("{")
    return start >= 0 and name.find("}", start + 1) > start + 1


def create_queue_config(
    *,
    queues: Mapping[str, QueueDefinition],
    connection: ConnectionSpec,
    prefix: str = DEFAULT_PREFIX,
) -> QueueConfig:
    """Validate the definitions and return the :class:`QueueConfig` generated code uses.

    ``prefix`` is the BullMQ key prefix of every queue (``"bull"`` by default;
    on a Redis Cluster, each queue owns a hash slot unless the prefix has a hash tag
    such as ``"{bull}"``, which puts them all in one: see :meth:`QueueConfig.redis_name`). Raises
    :class:`~bullmq_codegen.errors.DefinitionError` listing every problem found.
    """
    problems, validated = validate_definitions(queues, connection, prefix)
    if problems:
        raise DefinitionError(problems)
    frozen = MappingProxyType(dict(validated))
    return QueueConfig(queues=frozen, connection=connection, prefix=prefix)
