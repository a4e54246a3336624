"""The two noises of the method: the fixed constant background and per-variant random noise."""

from __future__ import annotations

import numpy as np

from engine.config import NoiseConfig


def constant_noise(config: NoiseConfig, size: int) -> np.ndarray:
    """The constant-noise field: uniform, zero mean, variance intensity**2; (size, size, 3)."""
    rng = np.random.Generator(np.random.PCG64(config.constant_seed))
    half_width = np.sqrt(3.0) * config.constant_intensity  # U(-a, a) has variance a**2 / 3
    return rng.uniform(-half_width, half_width, size=(size, size, 3)).astype(np.float32)


def random_noise(seed: int, size: int) -> np.ndarray:
    """Standard normal noise of one variant, a pure function of its seed: (size, size, 3)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    return rng.standard_normal((size, size, 3), dtype=np.float32)
