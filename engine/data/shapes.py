"""Seeded procedural line art that is not eyes: outlined shapes with flat and gradient fills.

The upsampling stage must sharpen whatever an artist draws, so it learns from these as well as
from the eyes: closed outlines, open strokes, flat colour, linear and radial gradients.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from engine.data.geometry import ELLIPSE_POINTS, hsv, tapered, wobble

MARGIN = 0.06  # fraction of the frame kept empty on every side


def make_shapes(
    rng: np.random.Generator, size: int, line_scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """One drawing and its rough sketch at size x size: both (S, S, 3) uint8 on white.

    line_scale multiplies the sketch's pencil width and wobble (1 suits a 64 px frame).
    """
    supersample = 4 if size <= 256 else 2  # enough anti-aliasing; 4x at 1024 px is slow
    big = size * supersample
    drawing = Image.new("RGB", (big, big), (255, 255, 255))
    sketch = Image.new("L", (big, big), 255)
    paint, pencil = ImageDraw.Draw(drawing), ImageDraw.Draw(sketch)
    sketch_grey = int(rng.integers(30, 90))
    line_rgb = hsv(rng.uniform(), rng.uniform(0.1, 0.6), rng.uniform(0.04, 0.25))
    outline_width = rng.uniform(0.006, 0.022) * size

    def xy(points: np.ndarray) -> list[tuple[float, float]]:
        return [tuple(p) for p in (points * supersample).tolist()]

    def sketch_line(points: np.ndarray) -> None:
        rough = wobble(points, rng, line_scale)
        widths = np.full(len(rough), rng.uniform(0.9, 1.5) * line_scale)
        pencil.polygon(xy(tapered(rough, widths)), fill=sketch_grey)

    for _ in range(rng.integers(2, 6)):
        outline = _random_outline(rng, size)
        closed = np.concatenate([outline, outline[:1]])
        fill = rng.choice(["none", "flat", "linear", "radial"], p=[0.2, 0.45, 0.2, 0.15])
        if fill != "none":
            _fill(drawing, xy(outline), fill, rng, supersample)
        if rng.uniform() < 0.85:
            widths = np.full(len(closed), outline_width * rng.uniform(0.6, 1.4))
            paint.polygon(xy(tapered(closed, widths)), fill=line_rgb)
        sketch_line(closed)
    for _ in range(rng.integers(0, 5)):  # free strokes: hair, folds, hatching
        stroke = _random_stroke(rng, size)
        taper = np.sin(np.linspace(0.15, np.pi - 0.15, len(stroke))) ** 0.6
        paint.polygon(xy(tapered(stroke, outline_width * taper)), fill=line_rgb)
        sketch_line(stroke)
    return (
        np.asarray(drawing.resize((size, size), Image.Resampling.LANCZOS)),
        np.repeat(
            np.asarray(sketch.resize((size, size), Image.Resampling.LANCZOS))[..., None], 3, axis=2
        ),
    )


def make_shape_drawings(count: int, seed: int, size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """`count` drawings from the seed's stream: drawings and sketches, both (N, S, S, 3) uint8."""
    pairs = [make_shapes(np.random.default_rng([seed, index]), size) for index in range(count)]
    return np.stack([drawing for drawing, _ in pairs]), np.stack([sketch for _, sketch in pairs])


def _random_outline(rng: np.random.Generator, size: int) -> np.ndarray:
    """A closed outline: an ellipse, a wobbly blob or a polygon with softened corners."""
    low, high = size * MARGIN, size * (1 - MARGIN)
    radius = rng.uniform(0.08, 0.3) * size
    center = rng.uniform(low + radius, high - radius, 2)
    angles = np.linspace(0, 2 * np.pi, ELLIPSE_POINTS, endpoint=False)
    kind = rng.choice(["ellipse", "blob", "polygon"])
    radii: np.ndarray
    if kind == "ellipse":
        radii = np.ones_like(angles)
    elif kind == "blob":
        radii = 1 + sum(  # type: ignore[assignment]  # a sum of arrays, never the int 0
            rng.uniform(0, 0.25 / k) * np.cos(k * angles + rng.uniform(0, 2 * np.pi))
            for k in range(2, 6)
        )
    else:
        corners = int(rng.integers(3, 8))
        # Distance to a regular polygon's edge in the direction of each angle.
        sector = (angles + rng.uniform(0, 2 * np.pi)) % (2 * np.pi / corners) - np.pi / corners
        radii = np.cos(np.pi / corners) / np.cos(sector)
    aspect = rng.uniform(0.5, 1.0)
    tilt = rng.uniform(0, np.pi)
    x, y = radii * np.cos(angles), radii * np.sin(angles) * aspect
    rotated = np.stack(
        [x * np.cos(tilt) - y * np.sin(tilt), x * np.sin(tilt) + y * np.cos(tilt)], axis=1
    )
    return center + radius * rotated / np.abs(rotated).max()


def _random_stroke(rng: np.random.Generator, size: int) -> np.ndarray:
    """An open curve (a cubic Bezier) inside the frame."""
    low, high = size * MARGIN, size * (1 - MARGIN)
    controls = rng.uniform(low, high, (4, 2))
    t = np.linspace(0, 1, 40)[:, None]
    weights = [(1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3]
    return sum(w * c for w, c in zip(weights, controls, strict=True))


def _fill(
    canvas: Image.Image,
    polygon: list[tuple[float, float]],
    kind: str,
    rng: np.random.Generator,
    supersample: int,
) -> None:
    """Paint a polygon with a flat colour or a linear or radial gradient."""
    mask = Image.new("L", canvas.size, 0)
    ImageDraw.Draw(mask).polygon(polygon, fill=255)
    hue = rng.uniform()
    first = np.array(hsv(hue, rng.uniform(0.2, 0.9), rng.uniform(0.4, 1.0)), np.float32)
    if kind == "flat":
        canvas.paste(tuple(int(c) for c in first), mask=mask)
        return
    second = np.array(
        hsv(hue + rng.uniform(-0.15, 0.15), rng.uniform(0.1, 0.8), rng.uniform(0.5, 1.0)),
        np.float32,
    )
    left, top, right, bottom = mask.getbbox() or (0, 0, 1, 1)
    # The gradient is computed on the polygon's box only, then pasted through the mask.
    ys, xs = np.mgrid[top:bottom, left:right].astype(np.float32)
    if kind == "linear":
        angle = rng.uniform(0, 2 * np.pi)
        along = xs * np.cos(angle) + ys * np.sin(angle)
        ramp = (along - along.min()) / max(float(np.ptp(along)), 1.0)
    else:
        cx, cy = rng.uniform(left, right), rng.uniform(top, bottom)
        distance = np.hypot(xs - cx, ys - cy)
        ramp = distance / max(float(distance.max()), 1.0)
    colours = first * (1 - ramp[..., None]) + second * ramp[..., None]
    patch = Image.fromarray(np.clip(colours, 0, 255).astype(np.uint8), "RGB")
    canvas.paste(patch, (left, top), mask=mask.crop((left, top, right, bottom)))
