"""A queue's event stream, read once per queue and event loop for every waiter and listener.

:class:`EventReader` follows ``<prefix>:<queue>:events`` on a connection of its
own; :class:`JobWatch` follows one job through it (waiting for a result,
iterating a job's progress and states); :class:`Subscription` hands every
event of the queue to a listener. The events are the dataclasses of
:mod:`.types`.
"""

from .reader import EventReader, EventsClosedError
from .subscription import LISTENER_METHODS, Subscription
from .types import (
    FinalEvent,
    JobActive,
    JobCompleted,
    JobDelayed,
    JobEvent,
    JobFailed,
    JobProgressed,
    JobRemoved,
    JobStalled,
    JobWaiting,
    JobWaitingChildren,
)
from .watch import JobWatch

__all__ = [
    "LISTENER_METHODS",
    "EventReader",
    "EventsClosedError",
    "FinalEvent",
    "JobActive",
    "JobCompleted",
    "JobDelayed",
    "JobEvent",
    "JobFailed",
    "JobProgressed",
    "JobRemoved",
    "JobStalled",
    "JobWaiting",
    "JobWaitingChildren",
    "JobWatch",
    "Subscription",
]
