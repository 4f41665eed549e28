"""``export ts``: TypeScript producers for Node services, from the queues' contract.

Four files, each from the template of the same name plus ``.jinja`` (thin: the
names, literals and Zod schemas are made here):

``schemas.ts``
    a Zod 4 schema and a type per model, payload and result (:mod:`.zod`);
``queues.ts``
    the queue and job names, the prefix, each job name's default job options and
    schedules as data, and ``createQueues(connection)``: typed BullMQ queues;
``producers.ts``
    ``createProducers(connection)``: ``enqueue<Job>`` validating with Zod before
    anything reaches Redis, ``enqueue<Job>AndWait`` giving the parsed result;
``index.ts``
    all of it, and the releases it targets (:data:`TARGETS`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import jinja2

from ..definitions.naming import snake_case
from ..generator.render import template_environment
from .jsonschema import header
from .model import Contract, JobContract
from .zod import ExportError, ZodNamespace

__all__ = ["OUTPUT_FILES", "TARGETS", "render_typescript"]

OUTPUT_FILES = ("index.ts", "producers.ts", "queues.ts", "schemas.ts")
"""The files ``export ts`` writes, each from the template of the same name plus ``.jinja``."""

TARGETS: Mapping[str, str] = {"bullmq": "^6.7.0", "zod": "^4.6.7", "typescript": ">=5.5"}
"""The npm releases the exported code is written for (and tested with: BullMQ 6.7.0, Zod
4.6.7, TypeScript 5.9 under ``--strict``)."""

_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_EXPORTED = (
    *("PREFIX", "QUEUES", "QueueName", "JobName", "DEFAULT_JOB_OPTIONS", "Schedule"),
    *("SCHEDULES", "Queues", "QueuesOptions", "createQueues"),
    *("DEFAULT_TIMEOUT_MS", "Producers", "createProducers", "TARGETS"),
)
"""What queues.ts, producers.ts and index.ts export: index.ts re-exports schemas.ts beside
them, so no model may take these names."""


@dataclass(frozen=True, slots=True)
class TsSchedule:
    """A job scheduler of the definitions, as TypeScript literals."""

    id: str
    repeat: str
    payload: str
    job_options: str


@dataclass(frozen=True, slots=True)
class TsJob:
    """One job name and the TypeScript names derived from it."""

    contract: JobContract
    pascal: str
    """``AfterSignUpEmail``: the stem of its names."""
    payload: str | None
    """The payload schema's const (``AfterSignUpEmailPayload``), ``None`` without schema."""
    result: str
    """The result schema's const (``AfterSignUpEmailResult``)."""
    data_type: str
    """The job's data as stored (the payload parsed, defaults filled)."""
    defaults: str
    """Its default job options, a TypeScript literal."""
    schedules: tuple[TsSchedule, ...]

    @property
    def name(self) -> str:
        """The BullMQ job name."""
        return self.contract.name

    @property
    def enqueue(self) -> str:
        """``enqueueAfterSignUpEmail``."""
        return f"enqueue{self.pascal}"

    @property
    def job_type(self) -> str:
        """Its BullMQ ``Job`` type's alias (``AfterSignUpEmailJob``)."""
        return f"{self.pascal}Job"

    @property
    def params(self) -> str:
        """The payload parameter of its producers (``payload: X, ``), empty without payload."""
        return "" if self.payload is None else f"payload: {self.payload}, "

    @property
    def access(self) -> str:
        """``.afterSignUpEmail`` or ``["after-sign-up"]``: its property in per-name records."""
        return _access(self.name)

    @property
    def queue_access(self) -> str:
        """Its queue's property on ``queues``."""
        return _access(self.contract.queue)


@dataclass(frozen=True, slots=True)
class TsQueue:
    """One queue and its job names."""

    name: str
    jobs: tuple[TsJob, ...]
    redis_name: str
    """The name BullMQ knows it by (hash-tagged on a Redis Cluster: ``{emails}``)."""

    @property
    def key(self) -> str:
        """The queue's name as an object key (quoted when it is not an identifier)."""
        return _key(self.name)

    @property
    def names_type(self) -> str:
        """The union of its job names' literal types."""
        return " | ".join(_js(job.name) for job in self.jobs)

    @property
    def data_type(self) -> str:
        """The union of its jobs' data types."""
        return " | ".join(dict.fromkeys(job.data_type for job in self.jobs))

    @property
    def result_type(self) -> str:
        """The union of its jobs' result types."""
        return " | ".join(dict.fromkeys(job.result for job in self.jobs))


def render_typescript(contract: Contract) -> dict[str, str]:
    """File name → text of the TypeScript export of ``contract``.

    Raises :class:`~bullmq_codegen.contract.zod.ExportError` for a schema Zod cannot
    express, naming the job, the model and the field.
    """
    namespace = ZodNamespace(reserved=_EXPORTED)
    pascals: dict[str, JobContract] = {}
    for job in contract.jobs:
        pascal = "".join(part.title() for part in snake_case(job.name).split("_"))
        if pascal in pascals:
            other = pascals[pascal]
            raise ExportError(
                f"cannot export job {job.name!r} of queue {job.queue!r} to TypeScript: its "
                f"names (enqueue{pascal}) are those of job {other.name!r} of queue "
                f"{other.queue!r}; rename one of them"
            )
        pascals[pascal] = job
        for suffix in ("Payload", "Result", "Job"):
            namespace.reserve(pascal + suffix)
    jobs: list[TsJob] = []
    aliases: list[dict[str, str]] = []
    for pascal, job in pascals.items():
        about = f"job {job.name!r} of queue {job.queue!r}"
        payload = None
        if job.payload is not None:
            payload = pascal + "Payload"
            where = f"the payload of {about} ({job.payload_model})"
            aliases.append(_alias(payload, namespace.add(job.payload, where), "input", job))
        result = pascal + "Result"
        where = f"the result of {about} ({job.result_type})"
        aliases.append(
            _alias(result, namespace.add(job.result, where, variant="Result"), "output", job)
        )
        jobs.append(
            TsJob(
                contract=job,
                pascal=pascal,
                payload=payload,
                result=result,
                data_type="Record<string, never>"
                if payload is None
                else f"z.output<typeof {payload}>",
                defaults=ts_literal(job.job_options),
                schedules=tuple(
                    TsSchedule(
                        id=schedule.id,
                        repeat=ts_literal(schedule.repeat, 2),
                        payload=ts_literal(schedule.payload, 2),
                        job_options=ts_literal(schedule.job_options, 2),
                    )
                    for schedule in job.schedules
                ),
            )
        )
    queues = [
        TsQueue(name, tuple(j for j in jobs if j.contract.queue == name), contract.redis_name(name))
        for name in contract.queues
    ]
    context: dict[str, Any] = {
        "header": header(contract),
        "contract": contract,
        "declarations": namespace.declarations,
        "aliases": aliases,
        "jobs": jobs,
        "queues": queues,
        "schema_imports": sorted(
            name for job in jobs for name in (job.payload, job.result) if name is not None
        ),
        "uses_z": any(job.payload is not None for job in jobs),
        "targets": TARGETS,
    }
    environment = _environment()
    return {
        name: environment.get_template(f"{name}.jinja").render(context) for name in OUTPUT_FILES
    }


def _alias(name: str, expression: str, mode: str, job: JobContract) -> dict[str, str]:
    kind = "Payload" if mode == "input" else "Result"
    python = job.payload_model if mode == "input" else job.result_type
    return {
        "name": name,
        "expression": expression,
        "mode": mode,
        "doc": f"{kind} of job {job.name!r} (queue {job.queue!r}): {python} in Python.",
    }


def ts_literal(value: object, indent: int = 0) -> str:
    """``value`` (JSON data) as a TypeScript literal, keys unquoted where they can be."""
    pad = " " * indent
    if isinstance(value, Mapping):
        entries = sorted(cast("Mapping[str, object]", value).items())
        items = [f"{pad}  {_key(k)}: {ts_literal(v, indent + 2)}," for k, v in entries]
        return "{\n" + "\n".join(items) + f"\n{pad}}}" if items else "{}"
    if isinstance(value, list):
        items = [f"{pad}  {ts_literal(v, indent + 2)}," for v in cast("list[object]", value)]
        return "[\n" + "\n".join(items) + f"\n{pad}]" if items else "[]"
    return _js(value)


def _access(name: str) -> str:
    return f".{name}" if _IDENTIFIER.fullmatch(name) else f"[{_js(name)}]"


def _key(name: str) -> str:
    return name if _IDENTIFIER.fullmatch(name) and name != "__proto__" else _js(name)


def _js(value: object) -> str:
    return (
        json.dumps(value, ensure_ascii=False)
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _doc(text: str | None, indent: int = 0) -> str:
    """``text`` as a JSDoc comment (empty without text)."""
    if not text:
        return ""
    pad = " " * indent
    lines = text.replace("*/", "*\\/").strip().splitlines()
    if len(lines) == 1:
        return f"{pad}/** {lines[0]} */\n"
    body = "".join(f"{pad} *{' ' + line if line.strip() else ''}\n" for line in lines)
    return f"{pad}/**\n{body}{pad} */\n"


def _environment() -> jinja2.Environment:
    return template_environment(
        jinja2.PackageLoader("bullmq_codegen.contract", "templates"),
        {"js": _js, "key": _key, "doc": _doc},
    )
