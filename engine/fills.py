"""Clean fills: an edge-preserving smoothing of stage 1's images before they are upsampled.

The small stage-1 network paints its fills mottled at 64 px (weights/README.md, "Flat fills, as
a figure"): 0.08 of its fill pixels are flat where the style's drawings have 0.92, and neither
the sampler nor the upsampler changes that. A bilateral filter (Tomasi & Manduchi 1998) averages
each pixel with the neighbours of nearly its own colour: the blotches inside a fill even out,
while lines, pupils, highlights and the edges between fills, steps far larger than the colour
sigma, stay where and as sharp as stage 1 drew them. Only pixels of the variant's own region
take part, so the constant noise outside it never bleeds in.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

RADIUS = 2  # neighbours up to 2 stage-1 pixels away (a 5 x 5 window)
SPATIAL_SIGMA = 1.0  # in stage-1 pixels
CHUNK = 8  # variants smoothed per call: a request's default count


def smooth_fills(
    images: np.ndarray, regions: np.ndarray, passes: int, colour_sigma: float
) -> np.ndarray:
    """Images (N, S, S, 3) in [-1, 1] after `passes` bilateral passes inside their regions
    (N, S, S, 1) in {0, 1}; colour_sigma is in [0, 1] units of a channel. Pixels outside the
    regions are returned as they were; passes 0 returns the images unchanged."""
    images = np.asarray(images, np.float32)
    if passes == 0:
        return images
    regions = np.asarray(regions, np.float32)
    colours = (np.clip(images, -1.0, 1.0) + 1.0) / 2.0
    sigma = tf.constant(colour_sigma, tf.float32)
    smoothed = np.empty_like(colours)
    # XLA compiles once per batch shape (about a second): every batch is cut into chunks of one
    # size, the last one padded with empty regions, so that happens once per image size.
    for start in range(0, len(images), CHUNK):
        count = min(CHUNK, len(images) - start)
        padding = ((0, CHUNK - count), (0, 0), (0, 0), (0, 0))
        chunk = tf.constant(np.pad(colours[start : start + count], padding))
        inside = tf.constant(np.pad(regions[start : start + count], padding))
        for _ in range(passes):
            chunk = _bilateral_pass(chunk, inside, sigma)
        smoothed[start : start + count] = chunk.numpy()[:count]
    return np.where(regions > 0, smoothed * 2.0 - 1.0, images).astype(np.float32)


def _bilateral_pass(colours: tf.Tensor, inside: tf.Tensor, colour_sigma: tf.Tensor) -> tf.Tensor:
    """One pass, compiled by XLA where this TensorFlow build can (Linux here; the installer also
    targets Windows and macOS, whose builds are not tested), else as plain TensorFlow ops."""
    global _compiled_pass
    if _compiled_pass is not None:
        try:
            return _compiled_pass(colours, inside, colour_sigma)
        except (
            tf.errors.UnimplementedError,
            tf.errors.InvalidArgumentError,
            tf.errors.NotFoundError,
        ):
            _compiled_pass = None  # the same result, only slower, from now on
    return _plain_pass(colours, inside, colour_sigma)


def _pass(colours: tf.Tensor, inside: tf.Tensor, colour_sigma: tf.Tensor) -> tf.Tensor:
    side = tf.shape(colours)[1]
    margins = [[0, 0], [RADIUS, RADIUS], [RADIUS, RADIUS], [0, 0]]
    padded = tf.pad(colours, margins, mode="SYMMETRIC")
    padded_inside = tf.pad(inside, margins)  # beyond the border counts as outside
    total = tf.zeros_like(colours)
    weights = tf.zeros_like(inside)
    for dy in range(-RADIUS, RADIUS + 1):
        for dx in range(-RADIUS, RADIUS + 1):
            neighbour = padded[
                :, RADIUS + dy : RADIUS + dy + side, RADIUS + dx : RADIUS + dx + side
            ]
            neighbour_inside = padded_inside[
                :, RADIUS + dy : RADIUS + dy + side, RADIUS + dx : RADIUS + dx + side
            ]
            distance = tf.reduce_sum(tf.square(neighbour - colours), axis=-1, keepdims=True)
            spatial = float(np.exp(-(dx * dx + dy * dy) / (2 * SPATIAL_SIGMA**2)))
            weight = spatial * tf.exp(-distance / (2 * colour_sigma**2)) * neighbour_inside
            total += weight * neighbour
            weights += weight
    # A pixel outside every region has no weight: it keeps its colour (and is put back anyway).
    return tf.where(weights > 0, total / tf.maximum(weights, 1e-12), colours)


# XLA fuses the window's 25 offsets into one loop over the pixels: 7 ms for 8 variants at 64 px,
# against 40 ms as plain TensorFlow ops and 150 ms in NumPy (2-core CPU).
_compiled_pass: Callable | None = tf.function(_pass, jit_compile=True, reduce_retracing=True)
_plain_pass = tf.function(_pass, reduce_retracing=True)
