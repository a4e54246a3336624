"""Pencil strokes a finished drawing does not keep: guide circles, arcs and axis lines.

Artists sketch construction (the iris's circle drawn twice, a centre line, a first try at a lid)
and paint over it or leave it out. The upsampling stage places its edges by the sketch's lines,
so it must learn to draw a line only where stage 1 painted one: it trains on sketches with such
strokes added (`UpscalerTrainConfig.construction_share`), which the target drawings lack.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from engine.data.geometry import ELLIPSE_POINTS, tapered, wobble

SUPERSAMPLE = 2  # anti-aliasing of the strokes' edges


def with_construction(
    sketch: np.ndarray, rng: np.random.Generator, line_scale: float
) -> np.ndarray:
    """The sketch (S, S, 3) uint8 on white with 1-3 construction strokes over its drawn part."""
    side = sketch.shape[0]
    ys, xs = np.nonzero(sketch.min(axis=-1) < 200)
    if not len(ys):
        return sketch
    low, high = np.array([xs.min(), ys.min()]), np.array([xs.max(), ys.max()])
    big = side * SUPERSAMPLE
    canvas = Image.new("L", (big, big), 255)
    draw = ImageDraw.Draw(canvas)
    grey = int(rng.integers(30, 110))  # as dark as the sketch's own pencil, or lighter
    for _ in range(rng.integers(1, 4)):
        points = wobble(_guide(rng, low, high), rng, line_scale)
        widths = np.full(len(points), rng.uniform(0.7, 1.3) * line_scale)
        polygon = tapered(points, widths) * SUPERSAMPLE
        draw.polygon([tuple(p) for p in polygon.tolist()], fill=grey)
    strokes = np.asarray(canvas.resize((side, side), Image.Resampling.LANCZOS))
    return np.minimum(sketch, strokes[..., None])


def _guide(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """One guide inside the box (low, high) of the sketch's ink: a circle, an arc or a line."""
    size = high - low
    centre = low + rng.uniform(0.2, 0.8, 2) * size
    kind = rng.choice(["circle", "arc", "line"], p=[0.4, 0.4, 0.2])
    if kind == "line":
        angle = rng.uniform(0, np.pi)
        half = rng.uniform(0.2, 0.5) * size.max() * np.array([np.cos(angle), np.sin(angle)])
        return np.linspace(centre - half, centre + half, 24)
    radii = rng.uniform(0.08, 0.3, 2) * size.max()
    start = rng.uniform(0, 2 * np.pi)
    sweep = 2 * np.pi if kind == "circle" else rng.uniform(0.5, 2.0)
    angles = start + np.linspace(0, sweep, ELLIPSE_POINTS)
    return centre + np.stack([np.cos(angles), np.sin(angles)], axis=1) * radii
