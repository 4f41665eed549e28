"""What the dashboard knows of each job name: its queue, payload schema and result type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from ..definitions.config import QueueConfig
from ..runtime.results import ResultType

__all__ = ["JobKind", "JobKinds"]


@dataclass(frozen=True, slots=True)
class JobKind:
    """One job name of the definitions, with the types its jobs are read with."""

    queue: str
    """The queue it is defined in."""
    name: str
    schema: type[BaseModel] | None
    """The payload model (``None``: a job without payload)."""
    result: ResultType[Any]
    """The processor's return type, which completed jobs' results are read as."""


class JobKinds:
    """Every job name of a ``QueueConfig``, found by queue and name (moved names in their former
    queue too)."""

    def __init__(self, config: QueueConfig) -> None:
        self._kinds: dict[tuple[str, str], JobKind] = {}
        former: list[str] = []
        for queue, definition in config.queues.items():
            for name, worker in definition["workers"].items():
                kind = JobKind(
                    queue=queue,
                    name=name,
                    schema=worker.get("schema"),
                    result=ResultType.of(worker["processor"]),
                )
                self._kinds[queue, name] = kind
                if "movedFrom" in worker:
                    self._kinds[worker["movedFrom"], name] = kind
                    former.append(worker["movedFrom"])
        self.queues: list[str] = sorted({*config.queues, *former})
        """Every queue shown: the definitions' and the ones job names moved from."""

    def of(self, queue: str, name: str) -> JobKind | None:
        """The job name ``name`` as read in ``queue`` (``None``: not a name of the definitions)."""
        return self._kinds.get((queue, name))

    def names(self, queue: str) -> list[str]:
        """The job names read in ``queue``."""
        return sorted(name for (where, name) in self._kinds if where == queue)
