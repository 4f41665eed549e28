"""What changed between two contracts (old → new), per job, and what breaks jobs in flight.

A deploy changes the contract while jobs wait in Redis: jobs added by the old
producers (and producers not yet redeployed) reach the new workers, and results
of the new workers reach readers not yet redeployed. A change is **breaking**
when one of them would fail: see :mod:`.schema_diff` for payloads and results;
a job name that disappears while jobs may wait for it breaks too, unless the new
contract runs it from its old queue (``movedFrom``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .model import Contract, JobContract
from .schema_diff import SchemaChange, Side, diff_schemas

__all__ = ["Change", "ContractDiff", "diff_contracts"]


@dataclass(frozen=True, slots=True)
class Change:
    """One change of the contract: where, what, whether it breaks, and why."""

    job: str
    """``queue/name`` of the job it concerns (``*`` for the whole contract)."""
    path: str
    """``payload.items[].sku``, ``result``..., or ``""`` for the job itself."""
    breaking: bool
    what: str
    why: str

    def line(self) -> str:
        """``BREAKING orders/placeOrder payload.items[]: type changed string → integer: why``."""
        where = f"{self.job} {self.path}" if self.path else self.job
        return f"{'BREAKING' if self.breaking else 'SAFE'} {where}: {self.what}: {self.why}"

    def to_json(self) -> dict[str, Any]:
        """The change as JSON data (``diff --json``)."""
        return {
            "job": self.job,
            "path": self.path,
            "breaking": self.breaking,
            "what": self.what,
            "why": self.why,
        }


@dataclass(frozen=True, slots=True)
class ContractDiff:
    """Every change from one contract to another, in the jobs' order."""

    changes: tuple[Change, ...]

    @property
    def breaking(self) -> tuple[Change, ...]:
        """The changes that break jobs waiting or services not yet redeployed."""
        return tuple(change for change in self.changes if change.breaking)

    def summary(self) -> str:
        """``2 breaking changes, 1 safe change (3 jobs)``, or that nothing changed."""
        if not self.changes:
            return "no changes to the contract"
        breaking = len(self.breaking)
        safe = len(self.changes) - breaking
        jobs = len({change.job for change in self.changes})
        return (
            f"{breaking} breaking {_plural('change', breaking)}, "
            f"{safe} safe {_plural('change', safe)} ({jobs} {_plural('job', jobs)})"
        )


def diff_contracts(old: Contract, new: Contract) -> ContractDiff:
    """The changes from ``old`` to ``new``."""
    changes: list[Change] = []
    if old.jobs and old.prefix != new.prefix:  # no jobs before: nothing waits under the old
        changes.append(
            Change(
                "*",
                "prefix",
                True,
                f"key prefix changed {old.prefix!r} → {new.prefix!r}",
                f"jobs waiting under {old.prefix!r} are never processed",
            )
        )
    for queue in dict.fromkeys(job.queue for job in old.jobs):
        was, now = old.redis_name(queue), new.redis_name(queue)
        if queue in new.queues and was != now:
            changes.append(
                Change(
                    f"{queue}/*",
                    "queue name in Redis",
                    True,
                    f"queue {queue!r} named {was!r} → {now!r} in Redis (a Redis Cluster's "
                    "hash slot per queue, or a hash tag in the prefix, came or went)",
                    f"jobs waiting under {was!r} are never processed",
                )
            )
    seen: set[str] = set()
    for before in old.jobs:
        after = new.job(before.queue, before.name)
        if after is None:
            after = _moved(before, new, changes)
        if after is not None:
            seen.add(after.key)
            changes += _job_changes(before, after)
    for after in new.jobs:
        if after.key not in seen:
            changes.append(Change(after.key, "", False, "job added", "nothing waits for it yet"))
    return ContractDiff(tuple(changes))


def _moved(before: JobContract, new: Contract, changes: list[Change]) -> JobContract | None:
    """The job ``before`` became in ``new`` when its key is gone (reported), if any."""
    same_name = [job for job in new.jobs if job.name == before.name]
    moved = next((job for job in same_name if job.moved_from == before.queue), None)
    if moved is not None:
        changes.append(
            Change(
                moved.key,
                "",
                False,
                f"moved from queue {before.queue!r}, drained via movedFrom",
                f"the workers of {before.queue!r} keep running the jobs left there",
            )
        )
        return moved
    if same_name:
        other = same_name[0]
        changes.append(
            Change(
                before.key,
                "",
                True,
                f"moved to queue {other.queue!r} without movedFrom",
                f"jobs waiting in {before.queue!r}, and those producers not yet redeployed add "
                f"there, are never processed: declare movedFrom: {before.queue!r}",
            )
        )
        return other
    queue_left = before.queue in new.queues
    changes.append(
        Change(
            before.key,
            "",
            True,
            "job removed or renamed" + ("" if queue_left else f" (queue {before.queue!r} too)"),
            "jobs already waiting, and those producers not yet redeployed add, "
            + (
                f"fail: the worker of {before.queue!r} has no processor for {before.name!r}"
                if queue_left
                else "are never processed"
            ),
        )
    )
    return None


def _job_changes(before: JobContract, after: JobContract) -> list[Change]:
    changes: list[Change] = []
    if before.moved_from is not None and after.moved_from is None:
        changes.append(
            Change(
                after.key,
                "",
                False,
                f"movedFrom {before.moved_from!r} removed",
                f"once `bullmq-codegen moved` finds none left in {before.moved_from!r}: "
                "jobs still there would fail",
            )
        )
    if before.payload is None and after.payload is not None:
        changes.append(
            Change(
                after.key,
                "payload",
                True,
                f"payload schema {after.payload_model} added (payloads were not validated)",
                "jobs already waiting, and producers not yet redeployed, may send any payload",
            )
        )
    elif before.payload is not None and after.payload is None:
        changes.append(
            Change(
                after.key,
                "payload",
                False,
                f"payload schema {before.payload_model} removed",
                "the worker accepts any payload",
            )
        )
    elif before.payload is not None and after.payload is not None:
        changes += _schema_changes(after.key, before.payload, after.payload, "payload")
    changes += _schema_changes(after.key, before.result, after.result, "result")
    return changes


def _schema_changes(job: str, old: Any, new: Any, side: Side) -> Sequence[Change]:
    found: list[SchemaChange] = diff_schemas(old, new, side)
    return [Change(job, change.path, change.breaking, change.what, change.why) for change in found]


def _plural(noun: str, count: int) -> str:
    return noun if count == 1 else noun + "s"
