"""bullmq's view of one queue on one event loop: its keys and Lua scripts over our clients.

This is the one place that builds bullmq objects. bullmq's ``Job`` and
``Scripts`` expect a "queue" with ``backend``, ``qualifiedName`` and ``opts``;
:class:`QueueContext` is that object, over a Redis client that bullmq does not
own. The scripts run on the hot paths (adding, taking and completing jobs) are
also prepared as :class:`~.resp.ScriptCommand`\\ s with this queue's keys
encoded once, to run on the loop's :class:`~.autopipeline.AutoPipeline`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from .resp import ScriptCommand

if TYPE_CHECKING:
    from bullmq.redis_connection import RedisConnection
    from redis.asyncio import Redis
    from redis.asyncio.cluster import RedisCluster
    from redis.commands.core import AsyncScript

    from .autopipeline import AutoPipeline

__all__ = ["QueueContext", "load_scripts"]

_ADD_KEYS = {
    "addStandardJob": (
        "wait",
        "paused",
        "meta",
        "id",
        "completed",
        "delayed",
        "active",
        "events",
        "marker",
    ),
    "addDelayedJob": ("marker", "meta", "id", "delayed", "completed", "events"),
    "addParentJob": ("meta", "id", "delayed", "waiting-children", "completed", "events"),
    "addPrioritizedJob": (
        "marker",
        "meta",
        "id",
        "prioritized",
        "delayed",
        "completed",
        "active",
        "events",
        "pc",
    ),
}
_FINISH_KEYS = (
    "wait",
    "active",
    "prioritized",
    "events",
    "stalled",
    "limiter",
    "delayed",
    "paused",
    "meta",
    "pc",
)
_ACTIVE_KEYS = (*_FINISH_KEYS, "marker")


def load_scripts(client: Redis | RedisCluster) -> RedisConnection:
    """bullmq's Lua scripts registered on ``client`` (no I/O; shared by every queue of a loop).

    bullmq (whose package imports its ``Worker``, ``Queue`` and all) is imported here, when a
    loop first connects, not when the generated code is: an API process starts without it.
    """
    from bullmq.redis_connection import RedisConnection

    # bullmq-py takes a RedisCluster too, though its annotation names only Redis
    return RedisConnection(cast("Redis", client), skipVersionCheck=True)


class QueueContext:
    """One queue's keys, scripts and options, as bullmq's ``Job`` and ``Scripts`` read them.

    ``name`` is the queue's name in the definitions; ``redis_name`` the one its keys
    and Node BullMQ use (the same, or hash-tagged on a cluster: see
    :meth:`~bullmq_codegen.definitions.config.QueueConfig.redis_name`).
    """

    __slots__ = (
        "_client",
        "add_scripts",
        "backend",
        "commands",
        "complete",
        "keys",
        "move_to_active",
        "name",
        "opts",
        "pipeline",
        "prefix",
        "qualifiedName",
        "redis_name",
    )

    def __init__(
        self,
        *,
        name: str,
        redis_name: str | None = None,
        prefix: str,
        scripts: RedisConnection,
        pipeline: AutoPipeline,
        opts: dict[str, Any],
        client: Redis | None = None,
    ) -> None:
        from bullmq.backends.redis_backend import RedisBackend  # see load_scripts

        self.name = name
        self.redis_name = redis_name or name
        self.prefix = prefix
        self.backend = RedisBackend(self.redis_name, scripts, None, prefix, owns_connection=False)
        self.qualifiedName: str = self.backend.qualifiedName
        self.keys: dict[str, str] = self.backend.keys
        self.commands: dict[str, AsyncScript] = scripts.commands
        self.pipeline = pipeline
        self.opts = opts
        self._client = client
        keys = self.keys
        self.move_to_active = self._script(
            "moveToActive", [keys[k] for k in _ACTIVE_KEYS], varying=False
        )
        self.complete = self._script(
            "moveToFinished",
            [*(keys[k] for k in _FINISH_KEYS), keys["completed"]],
            varying=True,
            after=[keys[""] + "metrics:completed", keys["marker"]],
        )
        self.add_scripts = {
            script: self._script(script, [keys[k] for k in names], varying=False)
            for script, names in _ADD_KEYS.items()
        }

    def _script(
        self, name: str, before: list[str], *, varying: bool, after: list[str] | None = None
    ) -> ScriptCommand:
        script = self.commands[name]
        source = script.script if isinstance(script.script, str) else bytes(script.script).decode()
        return ScriptCommand(
            sha=script.sha, source=source, before=before, varying=varying, after=after or []
        )

    @property
    def client(self) -> Redis:
        """The command client of this queue's reads and transactions off the hot path: the one
        bullmq's own calls run on, or on a Redis Cluster the queue's slot's
        (:class:`~.cluster.SlotClient`)."""
        return self._client if self._client is not None else self.backend.connection.conn

    def job_key(self, job_id: str) -> str:
        """The hash key of job ``job_id``."""
        return self.keys[""] + job_id
