"""The sampler: pure array math over a denoiser, with no weights and no TensorFlow."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.config import SOLVERS, ScheduleConfig
from engine.diffusion.method import keep_background
from engine.diffusion.schedule import rates
from engine.errors import Cancelled

# denoise_fn(noisy_images (B, S, S, 3), noise_rate) -> predicted clean images (B, S, S, 3)
DenoiseFn = Callable[[np.ndarray, float], np.ndarray]


def sample(
    denoise_fn: DenoiseFn,
    x: np.ndarray,
    times: np.ndarray,
    schedule: ScheduleConfig,
    region: np.ndarray,
    background: np.ndarray,
    solver: str = "ddim",
    on_step: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> np.ndarray:
    """Solve the diffusion ODE from x at times[0] to a clean image, one network call a time.

    solver: "ddim", deterministic DDIM (Song et al. 2021, eta = 0), the first-order solver; or
    "dpm++2m", DPM-Solver++(2M) (Lu et al. 2022), second order from the last two predictions at
    the same cost a step, so it needs fewer steps for the same images.

    Only `region` (1 inside, 0 outside, broadcastable to x) is denoised; outside it the input
    stays `background` at every step, as the noise-mask method prescribes. Returns the last
    prediction of the clean image everywhere.
    """
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}: use one of {', '.join(SOLVERS)}")
    total = len(times)
    pred_images = x
    previous: tuple[np.ndarray, float] | None = None  # last prediction and its log-SNR
    for step, t in enumerate(times):
        if should_cancel is not None and should_cancel():
            raise Cancelled()
        noise_rate, signal_rate = rates(t, schedule)
        pred_images = denoise_fn(x, float(noise_rate))
        if step + 1 < total:
            next_noise, next_signal = rates(times[step + 1], schedule)
            log_snr = float(np.log(signal_rate / noise_rate))
            h = float(np.log(next_signal / next_noise)) - log_snr
            direction = pred_images
            if solver == "dpm++2m" and previous is not None:
                # Extrapolate the prediction along log-SNR from the last two (Lu et al., Alg. 2).
                half_ratio = h / (2.0 * (log_snr - previous[1]))
                direction = (1.0 + half_ratio) * pred_images - half_ratio * previous[0]
            # The exact step of the linear part (with the first-order direction this is DDIM's
            # Eq. 12: the prediction re-noised with its implied noise at the next time).
            x = (next_noise / noise_rate) * x - next_signal * np.expm1(-h) * direction
            x = keep_background(x, region, background)
            previous = (pred_images, log_snr)
        if on_step is not None:
            on_step(step + 1, total)
    return pred_images
