"""The events of the engine's work streams (GET /v1/jobs/{id}/events, /v1/trainings/{id}/events),
as typed values: generation jobs and trainings send the same kinds."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

FINAL_STATES = ("done", "failed", "cancelled")


@dataclass(frozen=True)
class Progress:
    """A step was made."""

    step: int
    total: int
    eta_s: float | None = None  # trainings only: the engine's estimate of the time left


@dataclass(frozen=True)
class Preview:
    """What a training's model draws now (PNGs), for one of the drawings' sketches."""

    images: tuple[bytes, ...]


@dataclass(frozen=True)
class StateChange:
    """The work's state changed; a final one is the stream's last event."""

    state: str
    error: str = ""
    paused: bool = False  # a training waits while the engine makes variants
    model: str = ""  # a finished training's model name

    @property
    def final(self) -> bool:
        """True for done, failed and cancelled."""
        return self.state in FINAL_STATES


Event = Progress | Preview | StateChange


def parse_event(name: str, data: dict[str, Any]) -> Event | None:
    """The typed event of one SSE event's name and JSON data; None for what this plugin ignores."""
    if name == "progress":
        step, total, eta = data.get("step"), data.get("total"), data.get("eta_s")
        if isinstance(step, int) and isinstance(total, int):
            return Progress(step, total, float(eta) if isinstance(eta, int | float) else None)
    elif name == "preview":
        images = data.get("images")
        if isinstance(images, list):
            pngs = (_png(image) for image in images if isinstance(image, str))
            return Preview(tuple(png for png in pngs if png))
    elif name == "state" and isinstance(data.get("state"), str):
        return StateChange(
            state=data["state"],
            error=str(data.get("error") or ""),
            paused=bool(data.get("paused")),
            model=str(data.get("model") or ""),
        )
    return None


def _png(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return b""  # left out of the preview rather than ending the training's stream
