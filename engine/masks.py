"""Ink detection and the random-noise mask: ink pixels dilated by a disk of radius r."""

from __future__ import annotations

import numpy as np

# A pixel is ink when it differs from white by more than this (0..1), after flattening on white.
INK_THRESHOLD = 0.25


def ink_of(rgb: np.ndarray) -> np.ndarray:
    """Ink pixels of an (H, W, 3) float image in [0, 1] on white: a bool (H, W) array."""
    return (1.0 - rgb.min(axis=-1)) > INK_THRESHOLD


def squared_distance_to_ink(ink: np.ndarray) -> np.ndarray:
    """Exact squared Euclidean distance from every pixel to the nearest ink pixel.

    Two separable passes (rows, then columns); pixels of an image without ink get a huge value.
    """
    height, width = ink.shape
    far = np.int64(height * height + width * width + 1)
    columns = np.arange(width)
    # Pass 1: squared horizontal distance to the nearest ink pixel in the same row.
    row_dist = np.full((height, width), far, dtype=np.int64)
    for y in range(height):
        xs = np.flatnonzero(ink[y])
        if xs.size:
            row_dist[y] = np.min((columns[:, None] - xs[None, :]) ** 2, axis=1)
    # Pass 2: combine rows: d(y, x) = min over y' of (y - y')**2 + row_dist(y', x).
    rows = np.arange(height)
    vertical = (rows[:, None] - rows[None, :]) ** 2  # (y, y')
    return np.min(vertical[:, :, None] + row_dist[None, :, :], axis=1)


def dilate(ink: np.ndarray, radius: float) -> np.ndarray:
    """Pixels within `radius` (Euclidean, inclusive) of an ink pixel."""
    return squared_distance_to_ink(ink) <= radius * radius
