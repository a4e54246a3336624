"""The noise schedule: continuous time t in [0, 1] and the paper's 16 discrete levels."""

from __future__ import annotations

import numpy as np

from engine.config import ScheduleConfig


def rates(t: np.ndarray | float, config: ScheduleConfig) -> tuple[np.ndarray, np.ndarray]:
    """Noise and signal rates at time t (1 = most noise); noise**2 + signal**2 == 1."""
    start_angle = np.arccos(config.max_signal_rate)
    end_angle = np.arccos(config.min_signal_rate)
    angles = start_angle + np.asarray(t, dtype=np.float64) * (end_angle - start_angle)
    return np.sin(angles), np.cos(angles)


def level_time(level: int, config: ScheduleConfig) -> float:
    """Time of the paper's level k: level 0 is t = 1 (pure noise), level L-1 is t = 1/L."""
    return (config.levels - level) / config.levels


def sampling_times(steps: int, strength: float, power: float = 1.0) -> np.ndarray:
    """Times of the denoising steps, from t = strength down to 1/steps' share of it.

    power 1: evenly spaced; with steps == levels and strength == 1 these are exactly the paper's
    levels 0 .. L-1. power > 1 spends more of the steps at high noise, where a variant's
    composition forms (few-step sampling keeps its variety that way), the last time unchanged.
    """
    if power == 1.0 or steps == 1:
        return strength * (np.arange(steps, 0, -1, dtype=np.float64) / steps)
    progress = np.arange(steps, dtype=np.float64) / (steps - 1)
    return strength * (1.0 - (1.0 - 1.0 / steps) * progress**power)
