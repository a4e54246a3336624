"""The one fake engine of the tests: output we can predict from the request, and a hold."""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import Cancelled, EngineError
from engine.request import GenerateRequest, GenerateResult, Variant


def fake_patch(request: GenerateRequest, seed: int, name: str) -> np.ndarray:
    """The fake engine's square patch: a function of sketch, seed, parameters and engine name."""
    key = [
        seed,
        zlib.crc32(request.sketch.tobytes()),
        zlib.crc32(name.encode()),
        request.radius,
        FakeEngine.steps(request),
        int(request.effective_strength * 1000),
        ("mask", "sdedit", "noise").index(request.mode),
    ]
    side = max(request.sketch.shape[:2])
    patch = np.random.default_rng(key).integers(0, 256, (side, side, 4), dtype=np.uint8)
    patch[..., 3] = 255
    return patch


def fake_image(request: GenerateRequest, seed: int, name: str) -> np.ndarray:
    """The fake engine's variant at the sketch's size (its patch sits at the top-left corner)."""
    height, width = request.sketch.shape[:2]
    return fake_patch(request, seed, name)[:height, :width]


class FakeEngine:
    """Deterministic stand-in for engine.pipeline.Engine; can hold a job at its first step."""

    MODEL_STEPS = 16  # what its model's config would say when a request names no steps

    def __init__(self, name: str = "fake", step_delay: float = 0.0, hold: bool = False) -> None:
        self.name = name
        self.step_delay = step_delay  # seconds per step, so cancel has a window
        self.started = threading.Event()  # set when a generate call begins
        self.release = threading.Event()  # steps wait for it; set at once unless held
        if not hold:
            self.release.set()
        self.running = False
        self.requests: list[GenerateRequest] = []  # the requests run, in order
        self.cancelled = 0  # jobs that stopped at a step because they were cancelled
        self.fail_with: Exception | None = None  # raised by the next jobs instead of running

    @property
    def seen(self) -> list[int]:
        """Seeds of the requests run, in order."""
        return [request.seed for request in self.requests]

    @property
    def info(self) -> dict[str, Any]:
        """Same keys as the real Engine's info."""
        return {"name": self.name, "image_size": 32, "parameters": 1234, "device": "CPU"}

    @staticmethod
    def steps(request: GenerateRequest) -> int:
        """The steps a request runs: its own, else the model's, as the real Engine's."""
        return request.steps if request.steps is not None else FakeEngine.MODEL_STEPS

    def generate(
        self,
        request: GenerateRequest,
        on_progress: Callable[[int, int], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> GenerateResult:
        """Variants from fake_image after `steps` cancellable steps."""
        if not request.sketch[..., 3].any():
            raise EngineError("sketch is empty: draw something first")
        if self.fail_with is not None:
            raise self.fail_with
        self.running = True
        self.requests.append(request)
        self.started.set()
        try:
            total = self.steps(request)
            for step in range(total):
                while True:
                    if should_cancel is not None and should_cancel():
                        self.cancelled += 1
                        raise Cancelled()
                    if self.release.wait(0.01):
                        break
                time.sleep(self.step_delay)
                if on_progress is not None:
                    on_progress(step + 1, total)
        finally:
            self.running = False
        height, width = request.sketch.shape[:2]
        variants = [
            Variant(
                seed=request.seed + i,
                patch=fake_patch(request, request.seed + i, self.name),
                left=0,
                top=0,
                canvas_width=width,
                canvas_height=height,
            )
            for i in range(request.count)
        ]
        return GenerateResult(variants=variants)


@dataclass(frozen=True)
class FakeModel:
    """An item of list_models()."""

    name: str
    path: Path


def sketch(seed: int = 0, height: int = 20, width: int = 24) -> np.ndarray:
    """A small random RGBA sketch with some ink."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (height, width, 4), dtype=np.uint8)
    image[0, 0, 3] = 255  # never empty
    return image
