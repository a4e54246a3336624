"""The OpenAPI 3.1 description of the server's API, served at /openapi.json."""

from __future__ import annotations

from typing import Any

from engine import __version__
from engine.request import (
    COUNT_RANGE,
    DEFAULT_COUNT,
    DEFAULT_MODE,
    DEFAULT_RADIUS,
    DEFAULT_SEED,
    DEFAULT_STEPS,
    MODES,
    RADIUS_RANGE,
    SEED_RANGE,
    STEPS_RANGE,
)
from engine.server.jobs import STATES


def _int(bounds: tuple[int, int], default: int, description: str) -> dict[str, Any]:
    low, high = bounds
    return {
        "type": ["integer", "null"],
        "minimum": low,
        "maximum": high,
        "default": default,
        "description": description,
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


_ERRORS = {"401": _error("missing or wrong bearer token"), "400": _error("bad request")}
_JOB_ID = [
    {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
    }
]


def _operation(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "responses": {**responses, **_ERRORS}, **extra}


def openapi_schema() -> dict[str, Any]:
    """The API description as a JSON-ready dict."""
    job_request = {
        "type": "object",
        "additionalProperties": False,
        "required": ["sketch_png"],
        "properties": {
            "sketch_png": {
                "type": "string",
                "contentEncoding": "base64",
                "contentMediaType": "image/png",
                "description": "the sketch as a base64 PNG; transparent or white = empty paper",
            },
            "mode": {"type": ["string", "null"], "enum": [*MODES, None], "default": DEFAULT_MODE},
            "count": _int(COUNT_RANGE, DEFAULT_COUNT, "variants to make; variant i uses seed + i"),
            "radius": _int(RADIUS_RANGE, DEFAULT_RADIUS, "mask radius in pixels at model size"),
            "strength": {
                "type": ["number", "null"],
                "exclusiveMinimum": 0,
                "maximum": 1,
                "description": "fraction of the schedule to run; null = the mode's default",
            },
            "seed": _int(SEED_RANGE, DEFAULT_SEED, "seed of variant 0"),
            "steps": _int(STEPS_RANGE, DEFAULT_STEPS, "denoising steps"),
        },
    }
    job_status = {
        "type": "object",
        "required": ["id", "state", "step", "total", "error", "cancel_requested"],
        "properties": {
            "id": {"type": "string"},
            "state": {"type": "string", "enum": list(STATES)},
            "step": {"type": "integer", "description": "denoising steps done"},
            "total": {"type": "integer", "description": "denoising steps in all"},
            "error": {"type": ["string", "null"], "description": "why it failed or stopped"},
            "cancel_requested": {"type": "boolean"},
        },
    }
    result = {
        "type": "object",
        "required": ["variants"],
        "properties": {
            "variants": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["seed", "png"],
                    "properties": {
                        "seed": {"type": "integer"},
                        "png": {"type": "string", "contentEncoding": "base64"},
                    },
                },
            }
        },
    }
    health = {
        "type": "object",
        "properties": {
            "status": {"const": "ok"},
            "version": {"type": "string"},
            "model": {"type": "object", "description": "selected name, image_size, parameters"},
            "device": {"type": "string", "description": "CPU or the GPU's name"},
            "queue_length": {"type": "integer", "description": "jobs waiting"},
            "running": {"type": ["string", "null"], "description": "id of the running job"},
        },
    }
    models = {
        "type": "object",
        "properties": {
            "current": {"type": "string"},
            "models": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "path": {"type": "string"}},
                },
            },
        },
    }
    select = {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string"}},
    }
    events = {
        "description": "Server-Sent Events: `state` (a JobStatus) when the job starts, `progress` "
        '({"step", "total"}) after each step, and a final `state`; then the stream closes.',
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Sketch Variants engine", "version": __version__},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string"}},
                },
                "JobRequest": job_request,
                "JobStatus": job_status,
                "JobResult": result,
                "Health": health,
                "Models": models,
                "ModelSelect": select,
            },
        },
        "security": [{"bearer": []}],
        "paths": {
            "/openapi.json": {"get": _operation("this schema", {"200": _json({}, "the schema")})},
            "/v1/health": {
                "get": _operation(
                    "version, model, device, queue", {"200": _json(_ref("Health"), "")}
                ),
            },
            "/v1/models": {
                "get": _operation(
                    "the models that can be selected", {"200": _json(_ref("Models"), "models")}
                )
            },
            "/v1/models/select": {
                "post": _operation(
                    "load another model once the running job ends",
                    {"200": _json(_ref("Health"), "the model now loaded")},
                    requestBody={"required": True, **_json(_ref("ModelSelect"), "")},
                )
            },
            "/v1/jobs": {
                "get": _operation(
                    "known jobs, oldest first",
                    {"200": _json({"type": "object"}, "{jobs: [JobStatus]}")},
                ),
                "post": _operation(
                    "queue a sketch to make variants of",
                    {
                        "202": _json(_ref("JobStatus"), "queued"),
                        "413": _error("body too large"),
                        "429": _error("queue full"),
                    },
                    requestBody={"required": True, **_json(_ref("JobRequest"), "")},
                ),
            },
            "/v1/jobs/{id}": {
                "parameters": _JOB_ID,
                "get": _operation(
                    "state and progress",
                    {"200": _json(_ref("JobStatus"), "state"), "404": _error("unknown job")},
                ),
                "delete": _operation(
                    "cancel: a queued job at once, a running one at its next step",
                    {"200": _json(_ref("JobStatus"), "state"), "404": _error("unknown job")},
                ),
            },
            "/v1/jobs/{id}/events": {
                "parameters": _JOB_ID,
                "get": _operation("progress events", {"200": events, "404": _error("unknown job")}),
            },
            "/v1/jobs/{id}/result": {
                "parameters": _JOB_ID,
                "get": _operation(
                    "the variants, RGBA at the sketch's size",
                    {
                        "200": _json(_ref("JobResult"), "variants"),
                        "404": _error("unknown job"),
                        "409": _error("the job is not done"),
                    },
                ),
            },
        },
    }
