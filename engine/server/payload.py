"""Request bodies of the API as typed models, and the sketch PNG checked without decoding it."""

from __future__ import annotations

import base64
import binascii
import io
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ConfigDict, Field

from engine.errors import EngineError
from engine.images import decode_image
from engine.request import (
    COUNT_RANGE,
    DEFAULT_COUNT,
    DEFAULT_MODE,
    DEFAULT_RADIUS,
    DEFAULT_SEED,
    MAX_SIDE,
    MODES,
    RADIUS_RANGE,
    SEED_RANGE,
    STEPS_RANGE,
    GenerateRequest,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LIVE_KEY_PATTERN = "^[A-Za-z0-9_-]{8,64}$"  # a client's random id, not a secret
# Stands in for the sketch while its job waits: it lets GenerateRequest check the parameters now.
_STAND_IN = np.zeros((1, 1, 4), np.uint8)


def _whole(bounds: tuple[int, int], default: int | str, description: str) -> Any:
    low, high = bounds
    return Field(None, description=f"{description}; null or absent: {default}", ge=low, le=high)


class JobRequest(BaseModel):
    """POST /v1/jobs: a sketch and how to vary it. Absent and null parameters take the default."""

    # Strict: "8" is not a count and true is not a seed; unknown fields are typos, refused.
    model_config = ConfigDict(extra="forbid", strict=True)

    sketch_png: str = Field(
        min_length=1,
        description="the sketch as a base64 PNG (line breaks allowed); transparent or white = "
        "empty paper",
        json_schema_extra={"contentEncoding": "base64", "contentMediaType": "image/png"},
    )
    mode: Literal[MODES] | None = Field(  # type: ignore[valid-type]
        None, description=f"mask (the paper's method), sdedit or noise; null: {DEFAULT_MODE}"
    )
    count: int | None = _whole(COUNT_RANGE, DEFAULT_COUNT, "variants; variant i has seed + i")
    radius: int | None = _whole(RADIUS_RANGE, DEFAULT_RADIUS, "mask radius in model pixels")
    strength: float | None = Field(
        None,
        gt=0,
        le=1,
        allow_inf_nan=False,
        description="share of the noise levels to run; null: the mode's default (sdedit 0.5)",
    )
    seed: int | None = _whole(SEED_RANGE, DEFAULT_SEED, "seed of variant 0")
    steps: int | None = _whole(STEPS_RANGE, "the model's own", "denoising steps")
    upscale: bool | None = Field(
        None,
        description="true: the upsampling stage brings variants to the sketch's resolution; "
        "false: a plain blow-up of the model-size variant (fast preview); null: true",
    )
    clean_fills: bool | None = Field(
        None,
        description="true: the model's clean fills even out the variants' mottled fills; false: "
        "left as drawn, for a textured style; null: true",
    )
    colour: str | None = Field(
        None,
        pattern="^#[0-9a-fA-F]{6}$",
        description="#rrggbb: the main colour every variant paints in (models with the colour "
        "hint); null: each variant draws its own from the model's palette by its seed",
    )
    live: str | None = Field(
        None,
        pattern=LIVE_KEY_PATTERN,
        description="a client's live-session key (its own random id): this job supersedes the "
        "same key's earlier jobs, which end cancelled as superseded; null: an ordinary job",
    )
    model: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="a model name from GET /v1/models to run this job on; null: the selected one",
    )

    def parameters(self) -> GenerateRequest:
        """The parameters as a checked GenerateRequest whose sketch is a 1-pixel stand-in."""
        given = self.model_dump(exclude={"sketch_png", "live", "model"}, exclude_none=True)
        return GenerateRequest(sketch=_STAND_IN, **given)


JOB_FIELDS = tuple(JobRequest.model_fields)


class ModelSelection(BaseModel):
    """POST /v1/models/select: the model to load once the running job ends."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, description="a name from GET /v1/models")


@dataclass(frozen=True)
class SketchPng:
    """A sketch still PNG-encoded, with the size its header declares."""

    data: bytes
    width: int
    height: int


def sketch_png_from_base64(text: str) -> SketchPng:
    """The PNG of a sketch_png field, checked up to its pixels; EngineError otherwise."""
    # Base64 wrapped into lines (MIME, `base64` tools) or padded with spaces is still base64.
    compact = "".join(text.split())
    try:
        data = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise EngineError("sketch_png is not valid base64") from None
    return check_png(data)


def check_png(data: bytes, name: str = "sketch_png") -> SketchPng:
    """PNG bytes with a size we accept and intact chunks, checked without decoding any pixel."""
    # The signature first, so no other decoder Pillow has (TIFF, EPS via Ghostscript, ...) runs.
    if not data.startswith(PNG_SIGNATURE):
        raise EngineError(
            f"{name} is not a PNG: send the sketch as PNG (other formats are refused)"
        )
    # The size from the header chunk, which PNG puts first, before Pillow sees anything.
    if data[12:16] != b"IHDR" or len(data) < 24:
        raise EngineError(f"{name} is not a readable PNG (no header chunk)")
    width, height = struct.unpack(">II", data[16:24])
    if max(width, height) > MAX_SIDE or min(width, height) < 1:
        raise EngineError(f"{name} is {width}x{height}: sides of 1 to {MAX_SIDE} px are accepted")
    try:
        with Image.open(io.BytesIO(data), formats=("PNG",)) as image:
            image.verify()  # every chunk's checksum, without inflating the pixels
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise EngineError(f"{name} is not a readable PNG ({type(error).__name__})") from None
    return SketchPng(data, width, height)


def decode_sketch_png(data: bytes) -> np.ndarray:
    """A checked sketch PNG as (H, W, 4) uint8 RGBA."""
    return decode_image(data, name="sketch_png", formats=("PNG",))


def validation_message(errors: Sequence[Any]) -> str:
    """The first of pydantic's validation errors of a body as one line that says what to fix."""
    if not errors:
        return "the request body is not valid"
    error = errors[0]
    place = [str(part) for part in error.get("loc", ()) if part != "body"]
    kind = error.get("type", "")
    field_name = place[0] if place and not place[0].isdigit() else ""
    if kind == "json_invalid":
        return f"body is not valid JSON: {error.get('ctx', {}).get('error', 'decode error')}"
    if not field_name:
        if kind == "missing":
            return "the request needs a JSON body"
        return f"body must be a JSON object: {error.get('msg', '')}"
    if kind == "extra_forbidden":
        return f"unknown field {field_name[:40]!r}: the fields are listed in /openapi.json"
    if kind == "missing":
        return f"{field_name} is required"
    given = repr(error.get("input"))[:40]
    return f"{field_name}: {error.get('msg', 'not valid')} (got {given})"
