"""The contract of one definitions module: every job name, its payload and result schemas.

Plain JSON-able data (no Python objects), so it can be written out, read back
from an earlier export, and compared.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

__all__ = ["CONTRACT_VERSION", "Contract", "JobContract", "ScheduleContract"]

CONTRACT_VERSION = 1
"""The version of the ``contract.json`` layout (bumped on an incompatible change)."""

JsonSchema = Mapping[str, Any]
"""A JSON Schema document (Pydantic's, draft 2020-12)."""


@dataclass(frozen=True, slots=True)
class ScheduleContract:
    """A job scheduler the definitions declare: when, with what payload and options."""

    id: str
    repeat: Mapping[str, Any]
    """``every`` or ``pattern`` (with ``tz``), ``limit``, ``startDate``, ``endDate``, ``immediately``."""
    payload: Any = None
    """The payload as it travels (JSON), ``None`` without one."""
    job_options: Mapping[str, Any] = field(default_factory=dict[str, Any])


@dataclass(frozen=True, slots=True)
class JobContract:
    """One job name: its queue, what it takes, what it gives back, and how it runs."""

    queue: str
    name: str
    payload: JsonSchema | None
    """JSON Schema of the payload, ``None`` for a worker without schema (any JSON object)."""
    payload_model: str | None
    """The payload model's class name (``None`` without schema)."""
    result: JsonSchema
    """JSON Schema of the result (``{}``: any JSON, for an unannotated processor)."""
    result_type: str
    """The result type as Python spells it (``OrderTotal``, ``list[int]``...)."""
    job_options: Mapping[str, Any] = field(default_factory=dict[str, Any])
    """The default job options of this name: the queue's, then the name's own."""
    worker_options: Mapping[str, Any] = field(default_factory=dict[str, Any])
    """BullMQ worker options (``concurrency``, ``limiter``, lock and stall settings...)."""
    schedules: tuple[ScheduleContract, ...] = ()
    derived: tuple[str, ...] = ()
    """What Python derives from the payload before adding (``jobId``, ``deduplication``):
    producers in other languages must derive it alike."""
    moved_from: str | None = None
    processor: str = ""
    """The processor that serves the job, as ``module.qualname`` (``app.jobs.send_email``);
    empty in a contract read from an export that predates it."""

    @property
    def key(self) -> str:
        """``queue/name``: the job's stable name in exports."""
        return f"{self.queue}/{self.name}"


@dataclass(frozen=True, slots=True)
class Contract:
    """Every job of a definitions module, in definition order."""

    source: str
    """``module:attribute`` of the definitions."""
    prefix: str
    jobs: tuple[JobContract, ...]
    redis_names: Mapping[str, str] = field(default_factory=dict[str, str])
    """Queue → the name it goes by in Redis and to Node BullMQ, for the queues whose name
    there differs (hash-tagged on a Redis Cluster: ``{emails}``); see
    :meth:`~bullmq_codegen.definitions.config.QueueConfig.redis_name`."""

    def redis_name(self, queue: str) -> str:
        """The name Node BullMQ must give ``queue`` (``new Queue(name)``)."""
        return self.redis_names.get(queue, queue)

    @property
    def queues(self) -> dict[str, tuple[JobContract, ...]]:
        """Queue name → its jobs, in definition order."""
        found: dict[str, list[JobContract]] = {}
        for job in self.jobs:
            found.setdefault(job.queue, []).append(job)
        return {queue: tuple(jobs) for queue, jobs in found.items()}

    def job(self, queue: str, name: str) -> JobContract | None:
        """The job ``name`` of ``queue``, if the contract has it."""
        return next((j for j in self.jobs if j.queue == queue and j.name == name), None)

    def to_json(self) -> dict[str, Any]:
        """The contract as JSON data (what ``contract.json`` holds)."""
        data: dict[str, Any] = {
            "version": CONTRACT_VERSION,
            "source": self.source,
            "prefix": self.prefix,
            "jobs": [
                {
                    "queue": job.queue,
                    "name": job.name,
                    "payload": job.payload,
                    "payloadModel": job.payload_model,
                    "result": job.result,
                    "resultType": job.result_type,
                    "jobOptions": job.job_options,
                    "workerOptions": job.worker_options,
                    "schedules": [
                        {
                            "id": schedule.id,
                            "repeat": schedule.repeat,
                            "payload": schedule.payload,
                            "jobOptions": schedule.job_options,
                        }
                        for schedule in job.schedules
                    ],
                    "derived": list(job.derived),
                    "movedFrom": job.moved_from,
                    "processor": job.processor,
                }
                for job in self.jobs
            ],
        }
        if self.redis_names:  # only then: contracts of other definitions stay as they were
            data["redisNames"] = dict(self.redis_names)
        return data

    def dumps(self) -> str:
        """``contract.json``'s text: sorted keys, two-space indents, a final newline."""
        return json.dumps(self.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Contract:
        """A contract read back from :meth:`to_json`'s data (``ValueError`` if it is not one)."""
        if data.get("version") != CONTRACT_VERSION:
            raise ValueError(
                f"not a bullmq-codegen contract of version {CONTRACT_VERSION} "
                f"(found version {data.get('version')!r})"
            )
        jobs = cast("list[Mapping[str, Any]]", data["jobs"])
        return cls(
            source=str(data["source"]),
            prefix=str(data["prefix"]),
            redis_names={str(k): str(v) for k, v in data.get("redisNames", {}).items()},
            jobs=tuple(
                JobContract(
                    queue=job["queue"],
                    name=job["name"],
                    payload=job["payload"],
                    payload_model=job["payloadModel"],
                    result=job["result"],
                    result_type=job["resultType"],
                    job_options=job["jobOptions"],
                    worker_options=job["workerOptions"],
                    schedules=tuple(
                        ScheduleContract(
                            id=schedule["id"],
                            repeat=schedule["repeat"],
                            payload=schedule["payload"],
                            job_options=schedule["jobOptions"],
                        )
                        for schedule in job["schedules"]
                    ),
                    derived=tuple(job["derived"]),
                    moved_from=job["movedFrom"],
                    processor=job.get("processor", ""),
                )
                for job in jobs
            ),
        )
