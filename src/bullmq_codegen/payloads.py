"""Payloads in the form they travel in: a model dumped to JSON by alias, then validated back.

Producers, the test kit and schedules all send a payload this way, so what a
worker receives is exactly what its schema accepts (a model built with
``model_construct`` or mutated after construction is caught before it is sent).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from pydantic import BaseModel, JsonValue

__all__ = ["decode_json", "wire_payload"]


def wire_payload(
    schema: type[BaseModel] | None, payload: object, where: str
) -> tuple[BaseModel | None, str]:
    """``payload`` as the schema's model and the JSON data a job carries for it.

    Raises ``TypeError`` (a payload of another type, or one given to ``where``
    without schema) or ``pydantic.ValidationError`` (invalid as sent).
    """
    if schema is None:
        if payload is not None:
            raise TypeError(f"{where} takes no payload (its worker has no schema)")
        return None, "{}"
    model: BaseModel
    if isinstance(payload, schema):
        model = payload
    elif isinstance(payload, Mapping):
        model = schema.model_validate(payload)
    else:
        raise TypeError(f"{where} takes a {schema.__name__}, not {type(payload).__name__}")
    # Aliases are the names on the wire (what Node sends and the worker validates);
    # computed fields are derived, so they are not sent.
    text = model.model_dump_json(by_alias=True, exclude_computed_fields=True, warnings=False)
    return schema.model_validate_json(text), text  # what the worker will validate, now


def decode_json(text: str) -> JsonValue:
    """``text`` decoded as JSON; the text itself when it is not JSON (a Node producer's string)."""
    try:
        decoded: JsonValue = json.loads(text)
    except ValueError:
        return text
    return decoded
