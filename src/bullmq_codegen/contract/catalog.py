"""``bullmq-codegen catalog``: every queue and job name of the definitions, as Markdown.

Per job name: its payload and result with their fields, types and constraints,
its default job and worker options, schedules, what Python derives from the
payload, the processor that serves it and where it is deployed. Nested models
are listed once, in a section of their own. The text is deterministic (sorted
option keys, models by name), so a change to the definitions is a small,
readable diff in review; its first line is the generated header, so
``--check`` works as for the generated code.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from ..deploy.render import queue_slug
from ..deploy.settings import DeploySettings
from .describe import FieldRow, SchemaReader, code, ref_name, value
from .jsonschema import header
from .model import Contract, JobContract, ScheduleContract

__all__ = ["render_catalog"]

Node = Mapping[str, Any]

_MILLISECONDS = frozenset(
    {"delay", "lockDuration", "lockRenewTime", "stalledInterval", "maximumRateLimitDelay", "ttl"}
)
"""Options given in milliseconds (``drainDelay`` is in seconds)."""


def render_catalog(contract: Contract, deploy: DeploySettings) -> str:
    """The Markdown catalog of ``contract``, with the deployment names of ``deploy``."""
    models = _Models()
    queues = [
        _queue(queue, contract.redis_name(queue), jobs, models, deploy)
        for queue, jobs in contract.queues.items()
    ]
    lines = [
        f"<!-- {header(contract)} -->",
        "",
        "# Queue catalog",
        "",
        f"Every queue and job name of {code(contract.source)}, key prefix "
        f"{code(contract.prefix)}: what each job takes and gives back, how it runs, and where. "
        "Fields are named as they travel (by alias); a payload is described as the worker "
        "validates it, a result as the worker stores it.",
        "",
        *_table(
            ("queue", "job name", "payload", "result", "worker"),
            [
                (
                    code(job.queue),
                    code(job.name),
                    code(job.payload_model) if job.payload_model else "none",
                    code(job.result_type),
                    code(job.processor),
                )
                for job in contract.jobs
            ],
        ),
        "",
        *_deployment(deploy),
    ]
    for section in queues:
        lines.extend(["", *section])
    lines.extend(models.section())
    return "\n".join(lines) + "\n"


def _deployment(deploy: DeploySettings) -> list[str]:
    workers = f"{deploy.name}-workers"
    return [
        "## Deployment",
        "",
        f"As `bullmq-codegen deploy TARGET` writes it, for the deployment {code(deploy.name)} "
        "(`[tool.bullmq-codegen.deploy]`):",
        "",
        *_table(
            ("target", "runs the workers of"),
            [
                (f"PM2 app {code(workers)}", "every queue"),
                ("Docker Compose service `workers`", "every queue"),
                (f"systemd unit {code(workers + '.service')}", "every queue"),
                (
                    f"Kubernetes Deployment {code(workers + '-<queue>')}",
                    "one queue each (named under each queue)",
                ),
            ],
        ),
    ]


def _queue(
    queue: str,
    redis_name: str,
    jobs: Sequence[JobContract],
    models: _Models,
    deploy: DeploySettings,
) -> list[str]:
    lines = [
        f"## Queue {code(queue)}",
        "",
        f"Kubernetes Deployment {code(f'{deploy.name}-workers-{queue_slug(queue)}')}.",
    ]
    if redis_name != queue:
        lines.extend(
            [
                "",
                f"Named {code(redis_name)} in Redis, a hash slot of its own on the Redis "
                f"Cluster: Node BullMQ opens it as `new Queue({redis_name!r})`.",
            ]
        )
    for job in jobs:
        lines.extend(["", *_job(job, models)])
    return lines


def _job(job: JobContract, models: _Models) -> list[str]:
    lines = [f"### {code(job.name)}", "", f"Served by {code(job.processor)}."]
    if job.payload is None:
        lines.extend(["", "**Payload**: none (no schema: the job carries no data)."])
    else:
        reader = models.reader(job.payload, f"{job.key} payload")
        lines.extend(["", *_document("Payload", job.payload_model or "", job.payload, reader)])
    reader = models.reader(job.result, f"{job.key} result")
    lines.extend(["", *_document("Result", job.result_type, job.result, reader)])
    lines.extend(_options("Default job options", job.job_options))
    lines.extend(_options("Worker options", job.worker_options))
    if job.schedules:
        lines.extend(["", "**Schedules**", "", *_schedules(job.schedules)])
    for key in job.derived:
        what = "Job id" if key == "jobId" else "Deduplication id"
        lines.extend(
            [
                "",
                f"**{what}** derived from the payload ({code(key)} in the definitions): the "
                "Python producers compute it; producers in other languages must compute it "
                "alike.",
            ]
        )
    if job.moved_from is not None:
        lines.extend(
            [
                "",
                f"**Moved from** queue {code(job.moved_from)}: the workers of this queue also "
                "take the jobs of this name still waiting there (`bullmq-codegen moved` counts "
                "them).",
            ]
        )
    return lines


def _document(title: str, python: str, schema: Node, reader: SchemaReader) -> list[str]:
    """A payload's or result's lines: its type, and its fields when it is a model."""
    if _is_model(schema):
        return [f"**{title}** {code(python)}", *_about(schema), *_fields(schema, reader)]
    wire = "any JSON" if not schema else f"as JSON: {code(reader.type_of(schema))}"
    return [f"**{title}** {code(python)} ({wire})"]


def _is_model(schema: Node) -> bool:
    return schema.get("type") == "object" and "properties" in schema


def _about(schema: Node) -> list[str]:
    """``schema``'s description as a paragraph of its own (whitespace collapsed), if any."""
    text = " ".join(str(schema.get("description", "")).split())
    return ["", text] if text else []


def _fields(schema: Node, reader: SchemaReader) -> list[str]:
    rows: list[FieldRow] = reader.fields(schema)
    lines = [""]
    if rows:
        lines.extend(
            _table(
                ("field", "type", "required", "constraints", "description"),
                [(r.name, r.type, r.required, r.constraints, r.description) for r in rows],
            )
        )
    else:
        lines.append("No fields.")
    extra = reader.extra_fields(schema)
    if extra:
        lines.extend(["", extra])
    return lines


def _options(title: str, options: Mapping[str, Any]) -> list[str]:
    if not options:
        return []
    rows = [(code(key), _option(key, options[key])) for key in sorted(options)]
    return ["", f"**{title}**", "", *_table(("option", "value"), rows)]


def _option(key: str, option: object) -> str:
    """An option's value, readable: units, backoff, rate limit, which finished jobs are kept."""
    if key in ("removeOnComplete", "removeOnFail"):
        return _keep(option)
    if isinstance(option, bool):
        return code(value(option))
    if isinstance(option, int) and key in _MILLISECONDS:
        return f"{option} ms"
    if isinstance(option, int) and key == "drainDelay":
        return f"{option} s"
    if key == "backoff":
        if isinstance(option, int):
            return f"fixed, {option} ms"
        backoff = cast("Node", option)
        delay = f", {backoff['delay']} ms" if "delay" in backoff else ""
        return f"{code(str(backoff['type']))}{delay}"
    if key == "limiter":
        limiter = cast("Node", option)
        jobs = "job" if limiter["max"] == 1 else "jobs"
        return f"at most {limiter['max']} {jobs} per {limiter['duration']} ms (whole queue)"
    if isinstance(option, dict):
        parts = cast("Node", option)
        return ", ".join(f"{code(k)}: {_option(k, parts[k])}" for k in sorted(parts))
    if isinstance(option, int | float):
        return value(option)
    return code(value(option))


def _keep(option: object) -> str:
    if isinstance(option, bool):
        return "removed at once" if option else "kept"
    if isinstance(option, int):
        return f"keep the last {option}"
    keep = cast("Node", option)
    kept = [
        *([f"the last {keep['count']}"] if "count" in keep else []),
        *([f"those under {keep['age']} s old"] if "age" in keep else []),
    ]
    return "keep " + " and ".join(kept)


def _schedules(schedules: Sequence[ScheduleContract]) -> list[str]:
    return _table(
        ("id", "when", "payload", "job options"),
        [
            (
                code(schedule.id),
                _when(schedule.repeat),
                "none" if schedule.payload is None else code(value(schedule.payload)),
                ", ".join(
                    f"{code(key)}: {_option(key, schedule.job_options[key])}"
                    for key in sorted(schedule.job_options)
                ),
            )
            for schedule in schedules
        ],
    )


def _when(repeat: Mapping[str, Any]) -> str:
    if "pattern" in repeat:
        parts = [f"cron {code(str(repeat['pattern']))} ({repeat.get('tz', 'UTC')})"]
    else:
        parts = [f"every {repeat['every']} ms"]
    if "limit" in repeat:
        parts.append(f"at most {repeat['limit']} jobs")
    if "startDate" in repeat:
        parts.append(f"from {repeat['startDate']}")
    if "endDate" in repeat:
        parts.append(f"until {repeat['endDate']}")
    if repeat.get("immediately"):
        parts.append("the first job at once")
    return ", ".join(parts)


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table; ``|`` in a cell is escaped (also inside code, as GFM reads it)."""

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    return [line(head), "|" + "---|" * len(head), *(line(row) for row in rows)]


@dataclass(slots=True)
class _Model:
    schema: Node
    names: dict[str, str]
    """The ``$defs`` names of the document it came from → the names the catalog shows."""


@dataclass(slots=True)
class _Models:
    """The models nested in payloads and results, each listed once by the name it is shown
    with: two different models of one name are told apart by where the second was found."""

    shown: dict[str, _Model] = field(default_factory=dict[str, _Model])
    signatures: dict[str, str] = field(default_factory=dict[str, str])
    """Signature (a model with every model it refers to) → the name it is shown with."""

    def reader(self, document: Node, where: str) -> SchemaReader:
        """A reader of ``document`` whose ``$defs`` are registered here first."""
        defs = cast("Mapping[str, Node]", document.get("$defs", {}))
        names: dict[str, str] = {}
        for name in defs:
            signature = json.dumps(
                {n: defs[n] for n in sorted(_closure(name, defs))}, sort_keys=True
            )
            if signature not in self.signatures:
                shown = name if name not in self.shown else f"{name} ({where})"
                self.signatures[signature] = shown
                self.shown[shown] = _Model(defs[name], names)
            names[name] = self.signatures[signature]
        return SchemaReader(names)

    def section(self) -> list[str]:
        """The ``Models`` section (nothing when no payload or result nests a model)."""
        if not self.shown:
            return []
        lines = ["", "## Models", "", "Models nested in the payloads and results above."]
        for shown in sorted(self.shown):
            model = self.shown[shown]
            reader = SchemaReader(model.names)
            lines.extend(["", f"### {code(shown)}", *_about(model.schema)])
            if _is_model(model.schema):
                lines.extend(_fields(model.schema, reader))
            elif "enum" in model.schema:
                values = cast("list[object]", model.schema["enum"])
                lines.extend(["", "One of " + ", ".join(code(value(v)) for v in values) + "."])
            else:
                lines.extend(["", code(reader.type_of(model.schema))])
        return lines


def _closure(name: str, defs: Mapping[str, Node]) -> set[str]:
    """``name`` and every definition it refers to, directly or not."""
    found: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in found or current not in defs:
            continue
        found.add(current)
        todo.extend(ref_name(ref) for ref in _refs(defs[current]))
    return found


def _refs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, item in cast("dict[str, object]", node).items():
            if key == "$ref" and isinstance(item, str):
                yield item
            else:
                yield from _refs(item)
    elif isinstance(node, list):
        for item in cast("list[object]", node):
            yield from _refs(item)
