"""The auto-pipeline of one hash slot: every command goes to the master that owns the slot.

A queue's keys share one slot (see :meth:`QueueConfig.redis_name`), so a
:class:`SlotPipeline` serves a queue as :class:`~..autopipeline.AutoPipeline`
serves a single Redis, with the same ``execute`` / ``execute_all`` /
``run_script``, over the auto-pipeline of whichever node owns the slot now.
What the cluster answers instead of running a command is followed:

* ``MOVED``: the slot has a new owner; the slot map is updated and the command
  sent there (it did not run).
* ``ASK``: the slot is migrating and this key is already on the target; the
  command goes there once, after ``ASKING``.
* ``TRYAGAIN`` (a multi-key command while its slot migrates) and
  ``CLUSTERDOWN`` (a failover under way): sent again after a short wait.
* A node that cannot be reached (:class:`~.nodes.NodeUnreachable`; the
  command was never written): the slot map is asked again from any node that
  answers, and the command sent to the owner it names, for up to
  :data:`FAILOVER_PATIENCE` seconds (a replica takes over a dead master after
  the cluster's ``cluster-node-timeout``).

A connection that breaks with commands in flight fails them with a
``ConnectionError``, as on a single Redis (they may have run: sending them
again could run an add twice); the slot map is refreshed for the next ones.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from redis.exceptions import AskError, ClusterDownError, MovedError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..autopipeline import AutoPipeline
from ..resp import pack
from .nodes import NodeUnreachable

if TYPE_CHECKING:
    from .router import ClusterRouter

__all__ = ["FAILOVER_PATIENCE", "Attempts", "SlotPipeline"]

FAILOVER_PATIENCE = 30.0
"""Seconds a command that could not be sent waits for its slot to get a reachable master."""

_MAX_REDIRECTS = 16
"""``MOVED`` replies followed for one command before giving up (a slot map that will not
settle)."""

_ASKING = pack("ASKING")
_MULTI = pack("MULTI")


def _redirected(reply: object) -> bool:
    """Whether ``reply`` says the command did not run here (and where, or when, to send it)."""
    return isinstance(reply, AskError | TryAgainError | ClusterDownError)


class Attempts:
    """How one command (or batch) reacts to what stopped it: wait, follow, or give up."""

    __slots__ = ("_deadline", "_delay", "_redirects", "_router")

    def __init__(self, router: ClusterRouter) -> None:
        self._router = router
        self._redirects = 0
        self._deadline: float | None = None
        self._delay = 0.05

    async def after(self, error: BaseException, *, ask_waits: bool = False) -> None:
        """Return once the command can be sent again; raise ``error`` if it cannot."""
        if isinstance(error, MovedError):
            self._redirects += 1
            if self._redirects > _MAX_REDIRECTS:
                raise error
            await self._router.moved(error)
        elif isinstance(error, NodeUnreachable | ClusterDownError):
            await self._wait(error)
            await self._router.refresh()
        elif isinstance(error, TryAgainError) or (ask_waits and isinstance(error, AskError)):
            await self._wait(error)
        else:
            if isinstance(error, RedisConnectionError | RedisTimeoutError):
                self._router.refresh_soon()  # the node may be gone: look before the next
            raise error

    async def _wait(self, error: BaseException) -> None:
        now = time.monotonic()
        if self._deadline is None:
            self._deadline = now + FAILOVER_PATIENCE
        if now + self._delay > self._deadline:
            raise error
        await asyncio.sleep(self._delay)
        self._delay = min(self._delay * 2, 0.5)


class SlotPipeline(AutoPipeline):
    """:class:`AutoPipeline`'s API for the commands of one hash slot, sent to its owner.

    Not a connection of its own: the auto-pipelines of the nodes belong to the
    :class:`~.router.ClusterRouter`, which closes them.
    """

    def __init__(self, router: ClusterRouter, slot: int) -> None:  # no super(): owns no link
        self._router = router
        self.slot = slot

    @property
    def closed(self) -> bool:
        """Whether the router's connections were closed."""
        return self._router.closed

    async def close(self) -> None:
        """Nothing of its own to close (see :meth:`.router.ClusterRouter.close`)."""

    async def execute(self, packed: bytes) -> Any:
        """Send one encoded command to the slot's owner and return its reply."""
        attempts = Attempts(self._router)
        while True:
            try:
                pipeline = await self._router.owner(self.slot)
                return await pipeline.execute(packed)
            except MovedError as error:
                await attempts.after(error)
            except AskError as error:
                try:
                    return await self._asking(error, packed)
                except Exception as refused:  # each kind is handled by after()
                    await attempts.after(refused, ask_waits=True)
            except Exception as error:  # each kind is handled by after()
                await attempts.after(error)

    async def _asking(self, error: AskError, packed: bytes) -> Any:
        target = self._router.pipeline_at(str(error.host), int(error.port))  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
        _, reply = await target.execute_all([_ASKING, packed])
        if isinstance(reply, BaseException):
            raise reply
        return reply

    async def execute_all(self, commands: list[bytes]) -> list[Any]:
        """Send ``commands`` back to back to the slot's owner; replies as
        :meth:`AutoPipeline.execute_all` returns them.

        A ``MULTI`` ... ``EXEC`` block that the cluster refused (redirected) is
        sent again whole; in a plain batch, the redirected commands alone are
        sent again, each to where it belongs.
        """
        attempts = Attempts(self._router)
        transaction = _MULTI in commands
        while True:
            try:
                pipeline = await self._router.owner(self.slot)
                replies = await pipeline.execute_all(commands)
            except Exception as error:  # raised before sending: after() decides
                await attempts.after(error)
                continue
            refused = [index for index, reply in enumerate(replies) if _redirected(reply)]
            if not refused:
                return replies
            if transaction:
                await attempts.after(replies[refused[0]], ask_waits=True)
                continue
            for index in refused:
                try:
                    replies[index] = await self.execute(commands[index])
                except Exception as error:  # a reply, as execute_all gives them
                    replies[index] = error
            return replies
