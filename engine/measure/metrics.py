"""Evaluation metrics needing no download: stroke fidelity, retrieval, diversity, memorisation.

Realism (KID against finished drawings) is in engine.measure.realism.

Images are (H, W, 3) float arrays in [0, 1] on white; ink masks are bool (H, W).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.diffusion.colour import painted
from engine.diffusion.masks import squared_distance_to_ink

TOLERANCE_PX = 2.0  # a stroke counts as reproduced within this many pixels


@dataclass(frozen=True)
class Strokes:
    """Ink pixels and, for every pixel, the distance to the nearest of them (computed once)."""

    ink: np.ndarray  # bool (H, W)
    distance: np.ndarray  # (H, W) float, pixels to the nearest ink pixel


def strokes_of(ink: np.ndarray) -> Strokes:
    """The strokes of an ink mask, with their distance map."""
    return Strokes(ink, np.sqrt(squared_distance_to_ink(ink)))


def chamfer(a: Strokes, b: Strokes) -> float:
    """Symmetric mean distance between two sets of ink pixels (pixels); inf if one is empty."""
    if not a.ink.any() or not b.ink.any():
        return float("inf")
    return float((b.distance[a.ink].mean() + a.distance[b.ink].mean()) / 2)


def recall_precision(sketch: Strokes, output: Strokes) -> tuple[float, float]:
    """Share of sketch strokes the output reproduces, and of output strokes on the sketch."""
    if not output.ink.any():
        return 0.0, 0.0
    recall = float((output.distance[sketch.ink] <= TOLERANCE_PX).mean())
    precision = float((sketch.distance[output.ink] <= TOLERANCE_PX).mean())
    return recall, precision


def retrieval_accuracy(outputs: list[list[Strokes]], sketches: list[Strokes]) -> float:
    """Share of variants whose nearest sketch (by chamfer distance) is their own sketch."""
    hits = total = 0
    for own, variants in enumerate(outputs):
        for strokes in variants:
            distances = [chamfer(strokes, sketch) for sketch in sketches]
            hits += int(np.argmin(distances) == own)
            total += 1
    return hits / total


def _box_mean(image: np.ndarray, size: int = 7) -> np.ndarray:
    # Mean over size x size windows ('valid' part), by cumulative sums along both axes.
    summed = image.cumsum(0).cumsum(1)
    summed = np.pad(summed, ((1, 0), (1, 0)) + ((0, 0),) * (image.ndim - 2))
    window = (
        summed[size:, size:]
        - summed[:-size, size:]
        - summed[size:, :-size]
        + summed[:-size, :-size]
    )
    return window / (size * size)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Structural similarity of two images (Wang et al. 2004) with a 7x7 box window."""
    c1, c2 = 0.01**2, 0.03**2
    mean_a, mean_b = _box_mean(a), _box_mean(b)
    var_a = _box_mean(a * a) - mean_a**2
    var_b = _box_mean(b * b) - mean_b**2
    covariance = _box_mean(a * b) - mean_a * mean_b
    numerator = (2 * mean_a * mean_b + c1) * (2 * covariance + c2)
    denominator = (mean_a**2 + mean_b**2 + c1) * (var_a + var_b + c2)
    return float((numerator / denominator).mean())


def diversity(images: list[np.ndarray], region: np.ndarray) -> dict[str, float]:
    """Mean pairwise L1 inside and outside `region`, and mean pairwise 1 - SSIM."""
    inside, outside, dissimilarity = [], [], []
    for i in range(len(images)):
        for j in range(i + 1, len(images)):
            difference = np.abs(images[i] - images[j]).mean(axis=-1)
            inside.append(difference[region].mean() if region.any() else 0.0)
            outside.append(difference[~region].mean() if (~region).any() else 0.0)
            dissimilarity.append(1.0 - ssim(images[i], images[j]))
    return {
        "l1_inside": float(np.mean(inside)),
        "l1_outside": float(np.mean(outside)),
        "one_minus_ssim": float(np.mean(dissimilarity)),
    }


def detail(image: np.ndarray) -> float:
    """Share of pixels that carry paint (differ from white): how much the picture has in it."""
    return float(painted(image).mean())


def detail_added(outputs: np.ndarray, sketch_strokes: list[Strokes]) -> float:
    """Share of the variants' painted pixels that lie farther than TOLERANCE_PX from their
    sketch's ink: how much of what they paint is drawing added to the sketch, not its own lines
    traced (metrics.detail counts both). 0 where nothing is painted; outputs: (sketches,
    variants, S, S, 3) at the sketches' size."""
    paint = painted(outputs)
    beyond = np.stack([sketch.distance > TOLERANCE_PX for sketch in sketch_strokes])[:, None]
    return float((paint & beyond).sum() / max(int(paint.sum()), 1))


def nearest_distances(images: np.ndarray, references: np.ndarray) -> np.ndarray:
    """Root-mean-square pixel distance from each image to its nearest reference image."""
    a = images.reshape(len(images), -1).astype(np.float64)
    b = references.reshape(len(references), -1).astype(np.float64)
    squared = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(squared.min(axis=1), 0.0) / a.shape[1])
