"""Plain values that travel through the plugin: boxes, sketches, requests, variants, UI state."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

MODES = ("mask", "sdedit", "noise")
RADIUS_RANGE = (1, 16)
COUNT_RANGE = (1, 16)
STEPS_RANGE = (1, 64)
SEED_MAX = 2**31 - 1
DEFAULT_RADIUS = 4  # the engine's default, from its radius sweep
DEFAULT_SDEDIT_STRENGTH = 0.5
HEX_COLOUR = re.compile("^#[0-9a-f]{6}$")


def checked_colour(text: str) -> str:
    """`text` as a lower-case #rrggbb colour, or "" (each variant its own) when it is not one."""
    text = text.strip().lower()
    return text if HEX_COLOUR.match(text) else ""


@dataclass(frozen=True)
class Box:
    """A pixel rectangle in document coordinates."""

    x: int
    y: int
    width: int
    height: int

    @property
    def empty(self) -> bool:
        """True when the box covers no pixel."""
        return self.width <= 0 or self.height <= 0

    def intersected(self, other: Box) -> Box:
        """The part of this box that is inside `other` (possibly empty)."""
        left, top = max(self.x, other.x), max(self.y, other.y)
        right = min(self.x + self.width, other.x + other.width)
        bottom = min(self.y + self.height, other.y + other.height)
        return Box(left, top, max(0, right - left), max(0, bottom - top))


@dataclass(frozen=True)
class Sketch:
    """The pixels of one sketch: 8-bit rows of `box` as Krita stores them, read from a layer."""

    bgra: bytes = field(repr=False)  # width * height * 4 bytes, B G R A (Krita's RGBA/U8 order)
    box: Box  # where the pixels sit in the document


@dataclass(frozen=True)
class Target:
    """Where a job's results go: the document and layer that started it."""

    document: Any = field(repr=False, compare=False)  # an opaque handle owned by the adapter
    node_id: str  # the source layer's unique id
    layer_name: str  # the source layer's name, for the group and layer names


@dataclass(frozen=True)
class Params:
    """The artist's generation parameters, as set in the docker."""

    count: int = 4  # variants per sketch
    radius: int = DEFAULT_RADIUS  # mask radius in pixels at the model's resolution
    mode: str = "mask"  # "mask" (the paper's method), "sdedit" or "noise"
    strength: float = DEFAULT_SDEDIT_STRENGTH  # fraction of the schedule, used by sdedit only
    seed: int = 0  # seed of the first variant when new_seed is off
    new_seed: bool = True  # draw a fresh seed for every job
    # The model's own few steps for live previews and variants alike (the engine reads them from
    # the model: 4 for the shipped one), so a preview is what Keep makes of the same seed; off:
    # `steps` and `live_steps`, the paper's 16 levels and the quicker 8 of live previews.
    fast_sampling: bool = True
    steps: int = 16  # denoising steps when fast_sampling is off
    # The upsampling stage: crisp at the layer's resolution, slower; off = the plain blow-up.
    upscale: bool = True
    # The engine's clean fills (even fills for cel shading); off keeps a textured style's grain.
    clean_fills: bool = True
    live_steps: int = 8  # steps of live previews when fast_sampling is off (Keep uses `steps`)
    model: str = ""  # the model picked in the docker; "" = the engine's selected one (shipped)
    colour: str = ""  # "#rrggbb": every variant's main colour; "" = each its own from the model

    @property
    def requested_steps(self) -> int:
        """The steps a job asks the engine for: 0 = the model's own (fast sampling)."""
        return 0 if self.fast_sampling else self.steps


@dataclass(frozen=True)
class JobRequest:
    """One POST /v1/jobs body: a sketch as PNG and the parameters for its variants."""

    sketch_png: bytes = field(repr=False)
    mode: str
    count: int
    radius: int
    seed: int
    steps: int  # denoising steps; 0 = the model's own
    strength: float | None = None  # None = the mode's default on the engine
    upscale: bool = True  # the engine's upsampling stage, or the plain blow-up (live previews)
    clean_fills: bool = True  # the engine's clean fills; False leaves stage 1's fills as drawn
    live: str = ""  # the client's live key: the engine drops this key's older jobs; "" = none
    model: str = ""  # the model to draw with (a name from the engine); "" = the engine's selected
    colour: str = ""  # "#rrggbb" main colour of every variant; "" = each its own from the model

    def to_json(self) -> bytes:
        """The request body as UTF-8 JSON."""
        body: dict[str, Any] = {
            "sketch_png": base64.b64encode(self.sketch_png).decode("ascii"),
            "mode": self.mode,
            "count": self.count,
            "radius": self.radius,
            "seed": self.seed,
            "upscale": self.upscale,
        }
        if self.steps:
            body["steps"] = self.steps
        if self.strength is not None:
            body["strength"] = self.strength
        if self.live:
            body["live"] = self.live
        if self.model:
            body["model"] = self.model
        if self.colour:
            body["colour"] = self.colour
        if not self.clean_fills:  # only when off: an engine older than the setting still answers
            body["clean_fills"] = False
        return json.dumps(body).encode("utf-8")


@dataclass(frozen=True)
class Variant:
    """One result from the engine: its seed and RGBA pixels the size of the sketch."""

    seed: int
    png: bytes = field(repr=False)


@dataclass(frozen=True)
class Job:
    """A queued unit of work: a sketch, the parameters for it and where its results go."""

    target: Target
    sketch: Sketch
    params: Params
    seed: int  # the seed of variant 1, fixed when the job is queued
    live: str = ""  # the client's live key for a live preview, "" for variants to keep


class EngineState(str, Enum):  # noqa: UP042 - see below
    """Where the plugin stands with its engine; each value is the docker's word for it."""

    # A str Enum (not 3.11's StrEnum): Krita 5 on Windows and macOS bundles Python 3.10.
    NOT_CONNECTED = "not connected"  # nothing tried yet, or the settings changed
    STARTING = "starting"  # a local engine process is loading its model
    CONNECTED = "connected"  # a verified Sketch Variants engine answers
    UNREACHABLE = "not reachable"  # nothing (or something else) answers: see the reason


@dataclass(frozen=True)
class UiState:
    """What the docker shows; the controller replaces it on every change."""

    status: EngineState = EngineState.NOT_CONNECTED
    reason: str = ""  # why the engine is not reachable, or where it is
    busy: bool = False  # a job is running or queued
    step: int = 0  # progress of the running job
    total: int = 0
    jobs_left: int = 0  # jobs queued after the running one
    message: str = ""  # the last thing the artist should know, with what to do next
    thumbnails: tuple[bytes, ...] = ()  # PNGs of the last results
    live: bool = False  # live mode is on
    live_preview: bytes = b""  # PNG of the newest live result
