"""What a caller asks the engine for and what it gets back: typed, validated, plain values."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from engine.diffusion.colour import parse_colour
from engine.errors import EngineError

MODES = ("mask", "sdedit", "noise")
RADIUS_RANGE = (1, 16)  # pixels at the model's resolution
COUNT_RANGE = (1, 16)
STEPS_RANGE = (1, 64)
SEED_RANGE = (0, 2**31 - 1)
MAX_SIDE = 8192  # largest sketch side accepted, in pixels
# Largest side of a returned variant's patch: past it the upsampler's content (at most 1024 px)
# is only enlarged, so a bigger patch adds memory (4 bytes a pixel, per variant), not detail.
MAX_PATCH_SIDE = 4096

DEFAULT_MODE = "mask"
DEFAULT_COUNT = 8
# The most varied radius whose variants are still all retrieved as their own sketch, as often as
# sdedit's are (the radius sweep in weights/README.md); larger radii vary more and drift more.
DEFAULT_RADIUS = 4
DEFAULT_SEED = 0
# Fraction of the schedule to run, 1.0 = start from pure noise (level 0). `sdedit` starts at
# half the levels (level 8 of 16) so the sketch shows through; `noise` starts from noise. `mask`
# starts at 0.85, the sketch faintly under the noise inside the mask (signal 0.20; its paper half
# white, engine.diffusion.method.sketch_under_noise), where the paper starts from pure noise
# (PAPER_MASK_STRENGTH): on eye sketches in another hand than the training ones
# (engine/measure/other_hand.py) retrieval among 8 rose from 0.73 to 0.97 at 0.9 on the weights
# before guidance distillation, and from 0.94 to 0.98 at 0.85 on the distilled ones, whose
# colours had room to pale a little (weights/README.md, "Sketches in another hand" and "Colour
# guidance, distilled").
DEFAULT_STRENGTH = {"mask": 0.85, "sdedit": 0.5, "noise": 1.0}
PAPER_MASK_STRENGTH = 1.0


@dataclass(frozen=True)
class GenerateRequest:
    """One sketch and the parameters to make its variants."""

    sketch: np.ndarray = field(repr=False)  # (H, W, 4) uint8 RGBA at the sketch's own pixel size
    mode: str = DEFAULT_MODE  # "mask" (the paper's method), "sdedit" or "noise" (baselines)
    count: int = DEFAULT_COUNT  # number of variants; variant i uses seed + i
    radius: int = DEFAULT_RADIUS  # mask radius in pixels at the model's resolution
    strength: float | None = None  # fraction of the schedule to run; None = the mode's default
    seed: int = DEFAULT_SEED  # seed of variant 0
    # Denoising steps (network evaluations); None: the model's own (its config's sampling.steps:
    # 4 for the shipped model's second-order solver, the paper's 16 for older models).
    steps: int | None = None
    # True: the upsampling stage brings variants to the sketch's resolution; False: the plain
    # blow-up of the 64 px variant (a fast preview). Models without the stage always blow up.
    upscale: bool = True
    # True: stage 1's fills are evened out as the model's `fills` section says (engine.fills);
    # False: left as drawn, for a style whose texture is its own (pencil grain, washes).
    clean_fills: bool = True
    # "#rrggbb": the main colour every variant paints in; None: each variant draws one from the
    # model's palette by its seed. Models without the colour hint ignore it.
    colour: str | None = None

    def __post_init__(self) -> None:
        check_sketch(self.sketch)
        if self.mode not in MODES:
            raise EngineError(f"unsupported mode {self.mode!r}: use one of {', '.join(MODES)}")
        _check_int("count", self.count, COUNT_RANGE)
        _check_int("radius", self.radius, RADIUS_RANGE)
        if self.steps is not None:
            _check_int("steps", self.steps, STEPS_RANGE)
        _check_int("seed", self.seed, SEED_RANGE)
        if not isinstance(self.upscale, bool):
            raise EngineError(f"upscale must be true or false, got {self.upscale!r}")
        if not isinstance(self.clean_fills, bool):
            raise EngineError(f"clean_fills must be true or false, got {self.clean_fills!r}")
        if self.colour is not None:
            if not isinstance(self.colour, str):
                raise EngineError(f"colour must be a string like #3a7bd5, got {self.colour!r:.20}")
            try:
                parse_colour(self.colour)
            except ValueError as error:
                raise EngineError(str(error)) from None
        if self.strength is not None:
            if isinstance(self.strength, bool) or not isinstance(self.strength, int | float):
                raise EngineError(f"strength must be a number, got {self.strength!r}")
            if not 0.0 < float(self.strength) <= 1.0:
                raise EngineError(
                    f"strength {self.strength} is out of range: use 0 < strength <= 1"
                )

    @property
    def effective_strength(self) -> float:
        """The strength this request runs with, the mode's default when none was given."""
        return DEFAULT_STRENGTH[self.mode] if self.strength is None else float(self.strength)


@dataclass(frozen=True)
class Variant:
    """One generated variant, aligned with the sketch it came from."""

    seed: int
    patch: np.ndarray = field(repr=False)  # (side, side, 4) uint8 RGBA: the generated square
    left: int  # where the patch's top-left corner lies on the sketch (may be negative)
    top: int
    canvas_width: int  # the sketch's size
    canvas_height: int
    # Side of the square the patch covers on the sketch; None: the patch's own side. A frame
    # larger than MAX_PATCH_SIDE keeps a smaller patch, enlarged only when placed.
    side: int | None = None

    @property
    def image(self) -> np.ndarray:
        """The variant at the sketch's full size, transparent around the patch: (H, W, 4) uint8.

        Built on demand so a huge sketch costs one full-size image at a time, not one per variant.
        """
        canvas = np.zeros((self.canvas_height, self.canvas_width, 4), dtype=np.uint8)
        side = self.side or self.patch.shape[0]
        x0, y0 = max(self.left, 0), max(self.top, 0)
        x1 = min(self.left + side, self.canvas_width)
        y1 = min(self.top + side, self.canvas_height)
        if x1 <= x0 or y1 <= y0:
            return canvas
        inside = (x0 - self.left, y0 - self.top, x1 - self.left, y1 - self.top)  # frame pixels
        if self.patch.shape[0] == side:
            canvas[y0:y1, x0:x1] = self.patch[inside[1] : inside[3], inside[0] : inside[2]]
        else:
            # Only the part on the canvas is enlarged; Pillow resamples RGBA premultiplied, so
            # transparent colours do not bleed into the edges.
            scale = self.patch.shape[0] / side
            enlarged = Image.fromarray(self.patch, "RGBA").resize(
                (x1 - x0, y1 - y0), Image.Resampling.BICUBIC, box=tuple(v * scale for v in inside)
            )
            canvas[y0:y1, x0:x1] = np.asarray(enlarged)
        return canvas


@dataclass(frozen=True)
class GenerateResult:
    """All variants of one request, in seed order."""

    variants: list[Variant]


def check_sketch(sketch: object) -> None:
    """Raise EngineError unless `sketch` is an (H, W, 4) uint8 array of an accepted size."""
    if not isinstance(sketch, np.ndarray) or sketch.dtype != np.uint8:
        raise EngineError("sketch must be an 8-bit RGBA image")
    if sketch.ndim != 3 or sketch.shape[2] != 4:
        raise EngineError(f"sketch must be RGBA (height, width, 4), got shape {sketch.shape}")
    height, width = sketch.shape[:2]
    if min(height, width) < 1 or max(height, width) > MAX_SIDE:
        raise EngineError(
            f"sketch size {width}x{height} is out of range: 1 to {MAX_SIDE} px a side"
        )


def _check_int(name: str, value: object, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise EngineError(f"{name} must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise EngineError(f"{name} {value} is out of range: use {low} to {high}")
