"""BullMQ option types, with BullMQ's own camelCase keys.

Every option dict a user writes in a definitions module is one of these
TypedDicts, so a misspelled or unknown key is a type error in the editor; the
same types are validated at load time (unknown keys are refused there too).
The keys and their meaning follow BullMQ (Node and Python alike), so the jobs
we add are read the same way by Node workers on the same queues.
"""

from __future__ import annotations

from typing import Any, Generic, Required

from pydantic import ConfigDict, with_config
from typing_extensions import TypedDict, TypeVar

PayloadT = TypeVar("PayloadT", default=Any)

__all__ = [
    "BackoffOptions",
    "DeduplicationOptions",
    "JobOptions",
    "KeepJobs",
    "MetricsOptions",
    "QueueOptions",
    "RateLimiterOptions",
    "RemoveOnFinish",
    "ScheduleOptions",
    "WorkerOptions",
]

_FORBID = ConfigDict(extra="forbid")


@with_config(_FORBID)
class KeepJobs(TypedDict, total=False):
    """Which finished jobs to keep: by age, by count, or both."""

    age: int
    """Maximum age in seconds of a kept job."""
    count: int
    """Maximum number of jobs kept."""
    limit: int
    """Most jobs removed by age in one go (BullMQ's default 1000), bounding each finish's work."""


RemoveOnFinish = bool | int | KeepJobs
"""``True`` removes at once, an int keeps that many, ``KeepJobs`` keeps by age/count."""


@with_config(_FORBID)
class BackoffOptions(TypedDict, total=False):
    """How long to wait before retrying a failed job."""

    type: Required[str]
    """``fixed`` waits ``delay`` ms each time; ``exponential`` waits ``2^(attempt-1) * delay``;
    any other name is passed to the worker's ``backoffStrategy`` (which it then needs)."""
    delay: int
    """Base delay in milliseconds."""
    jitter: float
    """Between 0 and 1: each ``fixed`` or ``exponential`` delay is drawn at random from
    ``[delay * (1 - jitter), delay)``, as BullMQ does, so retries of many jobs spread out."""


@with_config(_FORBID)
class DeduplicationOptions(TypedDict, total=False):
    """Refuse (or replace) a job while another with the same id is pending."""

    id: Required[str]
    """Deduplication identifier."""
    ttl: int
    """Milliseconds the deduplication lasts; without it, until the job finishes."""
    extend: bool
    """Reset the ttl each time a duplicate is refused."""
    replace: bool
    """Replace the pending (delayed) job's data with the duplicate's."""


@with_config(_FORBID)
class JobOptions(TypedDict, total=False):
    """Options of one job: per call of a producer, or a queue's ``defaultJobOptions``."""

    jobId: str
    """Custom job id; adding a job whose id exists is a no-op that returns the existing id."""
    delay: int
    """Milliseconds to wait before the job may be processed."""
    priority: int
    """1 (highest) to 2_097_152 (lowest); 0 means no priority."""
    attempts: int
    """Total number of attempts before the job fails for good."""
    backoff: int | BackoffOptions
    """Delay between attempts: milliseconds (fixed) or a strategy."""
    lifo: bool
    """Add the job to the head of the queue instead of its tail."""
    removeOnComplete: RemoveOnFinish
    """Remove the job when it completes (or keep only some completed jobs)."""
    removeOnFail: RemoveOnFinish
    """Remove the job when it fails for good (or keep only some failed jobs)."""
    keepLogs: int
    """Maximum number of log rows kept for the job."""
    stackTraceLimit: int
    """Maximum number of stack traces kept for the job."""
    timestamp: int
    """Creation time in milliseconds since the epoch (default: now)."""
    deduplication: DeduplicationOptions
    """Deduplicate jobs by id (throttle or debounce)."""
    failParentOnFailure: bool
    """In a flow: when this child fails for good, fail its parent too."""
    ignoreDependencyOnFailure: bool
    """In a flow: when this child fails for good, let the parent run without its result."""
    removeDependencyOnFailure: bool
    """In a flow: when this child fails for good, forget it as a dependency of the parent."""
    continueParentOnFailure: bool
    """In a flow: when this child fails for good, start the parent at once."""


@with_config(ConfigDict(extra="forbid", arbitrary_types_allowed=True))
class ScheduleOptions(TypedDict, Generic[PayloadT], total=False):
    """A BullMQ job scheduler of one worker: ``every`` ms, or a cron ``pattern`` in ``tz``.

    The runner upserts it when workers start; ``payload`` (an instance of the
    worker's schema) and ``jobOptions`` make the template of every job it adds.
    """

    every: int
    """Milliseconds between two jobs."""
    pattern: str
    """A cron pattern (5 fields, or 6 with seconds first), as BullMQ's cron-parser reads it."""
    tz: str
    """IANA time zone the ``pattern`` is read in (default UTC)."""
    limit: int
    """Stop after this many jobs."""
    startDate: int
    """Milliseconds since the epoch before which no job is added."""
    endDate: int
    """Milliseconds since the epoch after which no job is added."""
    immediately: bool
    """Add the first job at once rather than at the first period's end."""
    payload: PayloadT
    """The payload of every job, an instance of the worker's schema (none without schema)."""
    jobOptions: JobOptions
    """Job options of every job the scheduler adds, over the worker's default job options."""


@with_config(_FORBID)
class QueueOptions(TypedDict, total=False):
    """Options of a queue, as BullMQ's ``QueueOptions`` without ``connection``.

    The key prefix is set once for the whole config (``create_queue_config(prefix=...)``)
    so that every queue, worker and Node service agrees on it.
    """

    defaultJobOptions: JobOptions
    """Options applied to every job added to this queue, unless the call overrides them."""


@with_config(_FORBID)
class RateLimiterOptions(TypedDict):
    """At most ``max`` jobs per ``duration`` milliseconds, for the whole queue."""

    max: int
    """Jobs allowed per window."""
    duration: int
    """Window length in milliseconds."""


@with_config(_FORBID)
class MetricsOptions(TypedDict):
    """BullMQ's ``metrics`` worker option."""

    maxDataPoints: int
    """Minutes of counts kept (BullMQ's ``MetricsTime.ONE_WEEK`` is 10080)."""


@with_config(_FORBID)
class WorkerOptions(TypedDict, total=False):
    """Options of a worker, as BullMQ's ``WorkerOptions`` without ``connection``.

    ``concurrency``, ``removeOnComplete`` and ``removeOnFail`` belong to the one
    processor they are written on. The other keys describe the BullMQ worker of
    the whole queue: when several workers of one queue set one of them, they
    must agree (the loader says so otherwise).
    """

    concurrency: int
    """Jobs of this worker's name processed in parallel by one process (default 1)."""
    limiter: RateLimiterOptions
    """Rate limit of the queue, enforced in Redis across every process."""
    removeOnComplete: RemoveOnFinish
    """Default for jobs that do not set ``removeOnComplete`` themselves."""
    removeOnFail: RemoveOnFinish
    """Default for jobs that do not set ``removeOnFail`` themselves."""
    lockDuration: int
    """Milliseconds a job stays locked by its worker between renewals (default 30000)."""
    lockRenewTime: int
    """Locks of running jobs are renewed every ``lockRenewTime / 2`` ms (default ``lockDuration / 2``)."""
    stalledInterval: int
    """Milliseconds between checks for stalled jobs (default 30000)."""
    maxStalledCount: int
    """Times a job may stall and be retried before it fails (default 1)."""
    drainDelay: int
    """Seconds (1 or more) an idle worker blocks waiting for a job before it looks again (default 5)."""
    name: str
    """Worker name, stored on each job it processes and on its Redis client name."""
    maxStartedAttempts: int
    """Times a job of this name may be started (moved to active, whether it then completed,
    failed or stalled) before it fails without retry: "job started more than allowable
    limit". Unset: no limit. Belongs to the processor it is written on."""
    skipStalledCheck: bool
    """Do not check for stalled jobs in this process (another process must, or stalled jobs
    of the queue stay active forever)."""
    skipLockRenewal: bool
    """Do not renew the locks of running jobs: only for jobs always shorter than
    ``lockDuration`` (a longer one is taken for stalled and run again)."""
    metrics: MetricsOptions
    """Record completed and failed counts per minute in the queue's metrics keys, as BullMQ's
    ``metrics`` option does (read by Node's ``Queue.getMetrics``)."""
    maximumRateLimitDelay: int
    """Longest wait in milliseconds of an idle, rate-limited worker before it looks again
    (default 30000)."""
