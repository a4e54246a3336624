"""Classifier-free guidance on the colour hint (Ho & Salimans 2022), shared by the sampler's
denoiser and the training that distils it into the network.

A hinted network asked for its prediction with and without its hint gives two images; pushing
from the hint-less one through the hinted one by a factor above 1 makes each variant commit to
its colour instead of drifting towards the grey average of the style's many hues.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# predict(noisy_images, masks, noise_rates, hints) -> predicted clean images, all (B, ...) arrays
PredictFn = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def guided_prediction(
    predict: PredictFn,
    noisy_images: np.ndarray,
    masks: np.ndarray,
    noise_rates: np.ndarray,
    hints: np.ndarray,
    guidance: float,
) -> np.ndarray:
    """The prediction guided by `guidance` (1: the plain hinted prediction, one call). Above 1
    the hinted and hint-less predictions come from one call on the batch twice over; rows
    without a hint (all zeros) come out as their plain prediction."""
    if guidance == 1.0 or not hints[..., 3].any():
        return predict(noisy_images, masks, noise_rates, hints)
    doubled = predict(
        np.concatenate([noisy_images, noisy_images]),
        np.concatenate([masks, masks]),
        np.concatenate([noise_rates, noise_rates]),
        np.concatenate([hints, np.zeros_like(hints)]),
    )
    hinted, hintless = np.split(doubled, 2)
    return hintless + guidance * (hinted - hintless)
