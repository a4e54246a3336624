"""The sampler: pure array math over a denoiser, with no weights and no TensorFlow."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.config import ScheduleConfig
from engine.diffusion.method import keep_background, noise_at
from engine.diffusion.schedule import rates
from engine.errors import Cancelled

# denoise_fn(noisy_images (B, S, S, 3), noise_rate) -> predicted clean images (B, S, S, 3)
DenoiseFn = Callable[[np.ndarray, float], np.ndarray]


def sample_ddim(
    denoise_fn: DenoiseFn,
    x: np.ndarray,
    times: np.ndarray,
    schedule: ScheduleConfig,
    region: np.ndarray,
    background: np.ndarray,
    on_step: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> np.ndarray:
    """Deterministic DDIM (Song et al. 2021, eta = 0) from x at times[0] to a clean image.

    Only `region` (1 inside, 0 outside, broadcastable to x) is denoised; outside it the input
    stays `background` at every step, as the noise-mask method prescribes. Returns the last
    prediction of the clean image everywhere.
    """
    total = len(times)
    pred_images = x
    for step, t in enumerate(times):
        if should_cancel is not None and should_cancel():
            raise Cancelled()
        noise_rate, signal_rate = rates(t, schedule)
        pred_images = denoise_fn(x, float(noise_rate))
        if step + 1 < total:
            # Eq. 12 of DDIM: re-noise the predicted image with the implied noise, at the next time.
            pred_noises = (x - signal_rate * pred_images) / noise_rate
            x = noise_at(pred_images, pred_noises, times[step + 1], schedule)
            x = keep_background(x, region, background)
        if on_step is not None:
            on_step(step + 1, total)
    return pred_images
