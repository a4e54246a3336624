"""The paper's method in two steps: noise the drawing at level t, keep the constant background.

Training, generation and the sampler build every network input with these two, so the recipe
the model learns is the one it is used with.
"""

from __future__ import annotations

import numpy as np

from engine.config import ScheduleConfig
from engine.diffusion.schedule import rates


def noise_at(
    images: np.ndarray, noises: np.ndarray, t: np.ndarray | float, schedule: ScheduleConfig
) -> np.ndarray:
    """The images at time t: signal_rate(t) * images + noise_rate(t) * noises.

    t is a float or an array broadcastable to the images, e.g. (B, 1, 1, 1) for one time each.
    """
    noise_rate, signal_rate = rates(t, schedule)
    return signal_rate * images + noise_rate * noises


def keep_background(
    images: np.ndarray, region: np.ndarray, background: np.ndarray | float
) -> np.ndarray:
    """The images inside `region` (1 inside, 0 outside) and `background` outside it."""
    return region * images + (1.0 - region) * background
