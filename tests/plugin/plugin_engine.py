"""A fake engine for the real server: predictable variants, steps that can be held or failed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from engine.errors import Cancelled, EngineError
from engine.request import GenerateRequest, GenerateResult, Variant


def fake_variant(request: GenerateRequest, seed: int) -> np.ndarray:
    """The sketch's ink recoloured by seed, opaque, at the sketch's size."""
    image = np.zeros_like(request.sketch)
    image[..., 0] = seed % 256
    image[..., 1] = 100
    image[..., 2] = 255 - request.sketch[..., 3]
    image[..., 3] = 255
    return image


def make_variant(seed: int, image: np.ndarray) -> Variant:
    """A Variant whose square patch covers the whole sketch from its top-left corner."""
    height, width = image.shape[:2]
    side = max(height, width)
    patch = np.zeros((side, side, 4), dtype=np.uint8)
    patch[:height, :width] = image
    return Variant(seed=seed, patch=patch, left=0, top=0, canvas_width=width, canvas_height=height)


class PluginFakeEngine:
    """Stands in for engine.pipeline.Engine behind a real EngineServer."""

    def __init__(self) -> None:
        self.release = threading.Event()  # steps after the first wait for it
        self.release.set()
        self.started = threading.Event()  # set when a job begins
        self.fail_with: str = ""  # the EngineError message to fail the next jobs with
        self.requests: list[GenerateRequest] = []
        self.cancelled = 0

    @property
    def info(self) -> dict[str, Any]:
        """Same keys as the real Engine's info."""
        return {"name": "plugin-fake", "image_size": 32, "parameters": 1, "device": "CPU"}

    def generate(
        self,
        request: GenerateRequest,
        on_progress: Callable[[int, int], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> GenerateResult:
        """Variants after `steps` steps; cancellable at every step."""
        self.requests.append(request)
        self.started.set()
        if self.fail_with:
            raise EngineError(self.fail_with)
        for step in range(request.steps):
            while not self.release.wait(0.01):
                if should_cancel is not None and should_cancel():
                    self.cancelled += 1
                    raise Cancelled()
            if on_progress is not None:
                on_progress(step + 1, request.steps)
        return GenerateResult(
            variants=[
                make_variant(request.seed + i, fake_variant(request, request.seed + i))
                for i in range(request.count)
            ]
        )
