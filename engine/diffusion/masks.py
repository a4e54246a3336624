"""Ink detection and the random-noise mask: ink pixels dilated by a disk of radius r."""

from __future__ import annotations

import numpy as np

# A pixel is ink when it differs from white by more than this (0..1), after flattening on white:
# in training's sketches (drawn at the model's size) and in an artist's sketch being framed.
INK_THRESHOLD = 0.25
# Ink of an artist's sketch once shrunk to the model's size for generation: a 2x box shrink
# halves a one-pixel stroke's darkness, so this is at most half of INK_THRESHOLD; a stroke that
# counts as ink at twice the model's size still does after shrinking (a test pins the relation).
SHRUNK_INK_THRESHOLD = 0.12


def ink_of(rgb: np.ndarray, threshold: float = INK_THRESHOLD) -> np.ndarray:
    """Ink pixels of an (H, W, 3) float image in [0, 1] on white: a bool (H, W) array."""
    return (1.0 - rgb.min(axis=-1)) > threshold


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


def within_radius(squared_distances: np.ndarray, radius: np.ndarray | float) -> np.ndarray:
    """The random-noise mask: pixels within `radius` (inclusive) of ink, from squared distances.

    radius is a float or an array broadcastable to the distances (one radius per example).
    """
    return squared_distances <= np.square(radius)


def dilate(ink: np.ndarray, radius: float) -> np.ndarray:
    """Pixels within `radius` (Euclidean, inclusive) of an ink pixel."""
    return within_radius(squared_distance_to_ink(ink), radius)
