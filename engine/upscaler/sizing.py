"""At which resolution the upsampling stage runs for a sketch's frame."""

from __future__ import annotations

import math

from engine.upscaler.config import UpscalerConfig


def upscaled_side(frame_side: int, model_size: int, config: UpscalerConfig) -> int | None:
    """The side the stage outputs for a frame, or None when a blow-up is as good.

    The stage runs at the frame's own side (a multiple of its factor) within the sides it was
    trained on: a smaller frame is made at the smallest and shrunk (sharper than a blow-up), a
    larger one at the largest and enlarged. A frame at most 1.5 times the model's size loses
    little to a plain bicubic blow-up.
    """
    if frame_side <= 1.5 * model_size:
        return None
    factor = config.network.factor
    side = math.ceil(frame_side / factor) * factor
    return min(config.train.max_side // factor * factor, max(config.train.min_side, side))
