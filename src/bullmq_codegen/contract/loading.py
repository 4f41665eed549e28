"""Building the contract from a definitions module: one JSON Schema per payload and result.

Payloads are described as the worker validates them (Pydantic's validation
mode, by alias): what any producer may send, a defaulted field optional.
Results are described as the worker stores them (serialization mode, by
alias, computed fields left out as they are when stored): what a reader gets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from ..definitions.config import QueueConfig
from ..definitions.schedules import schedule_payload_json
from ..loader.build import loaded_definitions
from ..loader.model import DefinitionsModel, SymbolRef
from ..runtime.job_options import name_defaults
from ..runtime.results import ResultType
from .model import Contract, JobContract, ScheduleContract

__all__ = [
    "REGEX_ENGINE",
    "URL_SCHEMES",
    "build_contract",
    "load_contract",
    "payload_json_schema",
    "result_json_schema",
]

_REPEAT_KEYS = ("every", "pattern", "tz", "limit", "startDate", "endDate", "immediately")


def load_contract(spec: str, cwd: Path | None = None) -> Contract:
    """The contract of the definitions ``spec`` names (``path.py`` or ``module``, ``:attr``).

    Raises :class:`~bullmq_codegen.DefinitionError` as ``generate`` does.
    """
    with loaded_definitions(spec, cwd) as (model, config):
        return build_contract(model, config)


def build_contract(model: DefinitionsModel, config: QueueConfig) -> Contract:
    """The contract of loaded definitions."""
    jobs: list[JobContract] = []
    for queue in model.queues:
        for worker in queue.workers:
            definition = config.worker(queue.name, worker.name)
            schema = definition.get("schema")
            hint: Any = ResultType.of(definition["processor"]).hint
            jobs.append(
                JobContract(
                    queue=queue.name,
                    name=worker.name,
                    payload=(None if schema is None else payload_json_schema(schema)),
                    payload_model=None if schema is None else schema.__name__,
                    result=result_json_schema(hint),
                    result_type=worker.result.expression,
                    job_options=_plain(name_defaults(config, queue.name, worker.name)),
                    worker_options=_plain(definition.get("options", {})),
                    schedules=tuple(
                        ScheduleContract(
                            id=scheduler_id,
                            repeat=_plain({k: v for k, v in s.items() if k in _REPEAT_KEYS}),
                            payload=json.loads(schedule_payload_json(s, schema))
                            if "payload" in s
                            else None,
                            job_options=_plain(s.get("jobOptions", {})),
                        )
                        for scheduler_id, s in definition.get("schedules", {}).items()
                    ),
                    derived=tuple(key for key in ("jobId", "deduplication") if key in definition),
                    moved_from=definition.get("movedFrom"),
                    processor=_qualified(worker.processor),
                )
            )
    redis_names = {queue: config.redis_name(queue) for queue in config.queues}
    return Contract(
        source=model.source,
        prefix=config.prefix,
        jobs=tuple(jobs),
        redis_names={queue: name for queue, name in redis_names.items() if name != queue},
    )


def _qualified(ref: SymbolRef) -> str:
    """``module.qualname`` of a module-level object (``app.jobs.Handlers.send``)."""
    return f"{ref.module}.{ref.name}{ref.attribute_path}"


REGEX_ENGINE = "x-regex-engine"
"""The keyword marking a pattern that Python's ``re`` reads (a model with
``regex_engine="python-re"``); other patterns are Pydantic's default, Rust's regex."""


URL_SCHEMES = "x-url-schemes"
"""The keyword listing the schemes a URL type allows (``HttpUrl``: http, https), which
Pydantic's JSON Schema leaves out."""


class _Schemas(GenerateJsonSchema):
    """Pydantic's JSON Schema, with the patterns of ``python-re`` models marked as such and
    the schemes a URL type allows."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._engines: list[str] = []

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        config: Mapping[str, Any] = schema.get("config") or {}
        self._engines.append(str(config.get("regex_engine", "rust-regex")))
        try:
            return super().model_schema(schema)
        finally:
            self._engines.pop()

    def url_schema(self, schema: core_schema.UrlSchema) -> JsonSchemaValue:
        value = super().url_schema(schema)
        schemes = schema.get("allowed_schemes")
        if schemes:
            value[URL_SCHEMES] = sorted(schemes)
        return value

    def str_schema(self, schema: core_schema.StringSchema) -> JsonSchemaValue:
        value = super().str_schema(schema)
        if "pattern" in value and self._engines and self._engines[-1] == "python-re":
            value[REGEX_ENGINE] = "python-re"
        return value


def payload_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema of a payload model, as the worker validates it (by alias)."""
    return model.model_json_schema(by_alias=True, mode="validation", schema_generator=_Schemas)


def result_json_schema(hint: Any) -> dict[str, Any]:
    """The JSON Schema of a result type, as the worker stores it (by alias, no computed
    fields)."""
    adapter: TypeAdapter[Any] = TypeAdapter(hint)
    return _without_computed(
        adapter.json_schema(by_alias=True, mode="serialization", schema_generator=_Schemas)
    )


def _plain(value: Mapping[str, Any]) -> dict[str, Any]:
    """``value`` as JSON data (option dicts hold only JSON values; dates become ISO text)."""
    loaded: dict[str, Any] = json.loads(json.dumps(value, default=str))
    return loaded


def _without_computed(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` without the ``readOnly`` (computed) properties, which stored results lack."""
    stripped = _strip(schema)
    assert isinstance(stripped, dict)
    return cast("dict[str, Any]", stripped)


def _strip(node: object) -> object:
    if isinstance(node, list):
        return [_strip(item) for item in cast("list[object]", node)]
    if not isinstance(node, dict):
        return node
    result = {str(key): _strip(value) for key, value in cast("dict[object, object]", node).items()}
    properties = result.get("properties")
    if isinstance(properties, dict):
        kept: dict[str, object] = {
            str(name): value
            for name, value in cast("dict[object, object]", properties).items()
            if not (isinstance(value, dict) and cast("dict[str, object]", value).get("readOnly"))
        }
        if len(kept) != len(cast("dict[object, object]", properties)):
            result["properties"] = kept
            required = [
                name for name in cast("list[str]", result.get("required", [])) if name in kept
            ]
            if required:
                result["required"] = required
            else:
                result.pop("required", None)
    return result
