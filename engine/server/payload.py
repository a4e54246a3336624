"""JSON bodies of the API turned into engine values, with one-line errors for anything malformed."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from engine.errors import EngineError
from engine.images import decode_image
from engine.request import GenerateRequest

JOB_FIELDS = ("sketch_png", "mode", "count", "radius", "strength", "seed", "steps")


def parse_json_object(body: bytes) -> dict[str, Any]:
    """Parse a request body that must be a JSON object; EngineError otherwise."""
    if not body:
        raise EngineError("the request needs a JSON body")
    try:
        value = json.loads(body)
    # RecursionError: deeply nested arrays must be a 400, not a crashed handler.
    except (ValueError, RecursionError) as error:
        raise EngineError(f"body is not valid JSON: {type(error).__name__}") from None
    if not isinstance(value, dict):
        raise EngineError(f"body must be a JSON object, got {type(value).__name__}")
    return value


def parse_job(body: bytes) -> GenerateRequest:
    """A POST /v1/jobs body as a validated GenerateRequest; EngineError names what is wrong."""
    fields = parse_json_object(body)
    unknown = sorted(set(fields) - set(JOB_FIELDS))
    if unknown:
        names = ", ".join(repr(name)[:40] for name in unknown[:5])
        raise EngineError(f"unknown field(s) {names}: use {', '.join(JOB_FIELDS)}")
    encoded = fields.get("sketch_png")
    if not isinstance(encoded, str) or not encoded:
        raise EngineError("sketch_png must be a base64-encoded PNG string")
    try:
        png = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise EngineError("sketch_png is not valid base64") from None
    sketch = decode_image(png, name="sketch_png")
    # Absent and null both mean "the default", so clients may send every field.
    options = {name: fields[name] for name in JOB_FIELDS[1:] if fields.get(name) is not None}
    return GenerateRequest(sketch=sketch, **options)


def parse_model_name(body: bytes) -> str:
    """The model name of a POST /v1/models/select body."""
    fields = parse_json_object(body)
    name = fields.get("name")
    if not isinstance(name, str) or not name:
        raise EngineError('body must be {"name": "<model name>"}')
    return name
