"""Seeded procedural flowers with their rough pencil sketches: a second subject, not eyes.

The style is deliberately unlike the eyes': flat warm petals with thick dark-brown outlines, a
dotted centre disc, and a green stem with leaves. It is the project's test of teaching the model
a new subject (`python -m engine measure-teaching`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from engine.data.geometry import ellipse, hsv, wobble

TRAIN_SEED = 31
HELDOUT_SEED = 32
SUPERSAMPLE = 4  # render at 4x and downsample with LANCZOS for anti-aliased lines
PETAL_HUES = (0.95, 0.0, 0.07, 0.13, 0.8, 0.58)  # pink, red, orange, yellow, purple, blue


@dataclass(frozen=True)
class FlowerSample:
    """One flower: the finished drawing and the rough sketch an artist would start it from."""

    drawing: np.ndarray = field(repr=False)  # (S, S, 3) uint8 RGB on white
    sketch: np.ndarray = field(repr=False)  # (S, S, 3) uint8 RGB, grey pencil lines on white


def _petal(
    cx: float, cy: float, angle: float, inner: float, outer: float, width: float
) -> tuple[np.ndarray, np.ndarray]:
    """A teardrop petal from radius `inner` to `outer` along `angle`: (outline, midrib)."""
    t = np.linspace(0, 1, 24)
    radius = inner + (outer - inner) * t
    half = width * np.sin(np.pi * t) ** 0.7 * (0.6 + 0.4 * t)
    direction = np.array([np.cos(angle), np.sin(angle)])
    side = np.array([-direction[1], direction[0]])
    centre_line = np.array([cx, cy]) + radius[:, None] * direction
    left = centre_line + half[:, None] * side
    right = centre_line - half[:, None] * side
    return np.concatenate([left, right[::-1]]), centre_line[2:-4]


def _leaf(
    base: np.ndarray, angle: float, length: float, width: float
) -> tuple[np.ndarray, np.ndarray]:
    """An almond leaf from `base` along `angle`: (outline, midrib)."""
    t = np.linspace(0, 1, 20)
    direction = np.array([np.cos(angle), np.sin(angle)])
    side = np.array([-direction[1], direction[0]])
    midrib = base + (t * length)[:, None] * direction
    half = width * np.sin(np.pi * t)
    outline = np.concatenate([midrib + half[:, None] * side, (midrib - half[:, None] * side)[::-1]])
    return outline, midrib


def _xy(points: np.ndarray) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in points]


def make_flower(rng: np.random.Generator, size: int = 64, line_scale: float = 1.0) -> FlowerSample:
    """Draw one random flower and its rough sketch at size x size pixels.

    line_scale multiplies the sketch's pencil width and wobble, as for the eyes.
    """
    big = size * SUPERSAMPLE
    px = big / 64  # one pixel of a 64 px frame on the big canvas
    cx = big * rng.uniform(0.4, 0.6)
    cy = big * rng.uniform(0.32, 0.45)
    outer = min(cx, big - cx, cy) - 4 * px
    outer *= rng.uniform(0.75, 1.0)
    inner = outer * rng.uniform(0.18, 0.3)
    petals = int(rng.integers(5, 10))
    width = outer * rng.uniform(0.22, 0.38) * 6 / petals
    turn = rng.uniform(0, 2 * np.pi)
    hue = PETAL_HUES[rng.integers(len(PETAL_HUES))] + rng.normal(0, 0.02)
    petal_rgb = hsv(hue, rng.uniform(0.45, 0.8), rng.uniform(0.85, 1.0))
    vein_rgb = hsv(hue, 0.9, 0.65)
    outline_rgb = hsv(0.05 + rng.normal(0, 0.02), 0.7, rng.uniform(0.22, 0.35))  # dark brown
    leaf_rgb = hsv(rng.uniform(0.25, 0.36), rng.uniform(0.5, 0.75), rng.uniform(0.55, 0.8))
    disc_rgb = hsv(rng.uniform(0.08, 0.15), 0.85, 0.95)
    line = 1.3 * px

    # Stem: a gentle curve from under the centre to the bottom edge; one or two leaves on it.
    stem_t = np.linspace(0, 1, 24)[:, None]
    foot = np.array([cx + rng.uniform(-8, 8) * px, big - 3 * px])
    bend = np.array([rng.uniform(-6, 6) * px, 0])
    stem = (1 - stem_t) * np.array([cx, cy]) + stem_t * foot + np.sin(np.pi * stem_t) * bend
    leaves = []
    for _ in range(int(rng.integers(1, 3))):
        base = stem[int(rng.integers(12, 20))]
        angle = (-0.5 if rng.random() < 0.5 else np.pi + 0.5) + rng.normal(0, 0.25)
        leaves.append(_leaf(base, angle, outer * rng.uniform(0.55, 0.8), outer * 0.14))
    shapes = [
        _petal(cx, cy, turn + 2 * np.pi * k / petals, inner * 0.7, outer, width)
        for k in range(petals)
    ]
    disc = ellipse(cx, cy, inner, inner)

    drawing = Image.new("RGB", (big, big), "white")
    draw = ImageDraw.Draw(drawing)
    draw.line(_xy(stem), fill=leaf_rgb, width=round(2.2 * px), joint="curve")
    for outline, midrib in leaves:
        draw.polygon(_xy(outline), fill=leaf_rgb, outline=outline_rgb, width=round(line))
        draw.line(_xy(midrib), fill=outline_rgb, width=round(0.7 * px))
    for outline, midrib in shapes:
        draw.polygon(_xy(outline), fill=petal_rgb, outline=outline_rgb, width=round(line))
        draw.line(_xy(midrib), fill=vein_rgb, width=round(0.7 * px))
    draw.polygon(_xy(disc), fill=disc_rgb, outline=outline_rgb, width=round(line))
    for _ in range(int(rng.integers(4, 9))):
        r, a = inner * 0.6 * np.sqrt(rng.random()), rng.uniform(0, 2 * np.pi)
        x, y, dot = cx + r * np.cos(a), cy + r * np.sin(a), 0.8 * px
        draw.ellipse((x - dot, y - dot, x + dot, y + dot), fill=outline_rgb)

    sketch = Image.new("L", (big, big), 255)
    pencil = ImageDraw.Draw(sketch)
    grey = int(rng.integers(40, 90))
    lines = [np.vstack([o, o[:1]]) for o, _ in shapes] + [np.vstack([disc, disc[:1]]), stem]
    lines += [np.vstack([o, o[:1]]) for o, _ in leaves]
    for points in lines:
        rough = wobble(points, rng, line_scale * px)
        pencil.line(_xy(rough), fill=grey, width=max(1, round(0.9 * px * line_scale)))

    shrink = (size, size)
    return FlowerSample(
        drawing=np.asarray(drawing.resize(shrink, Image.Resampling.LANCZOS)),
        sketch=np.repeat(
            np.asarray(sketch.resize(shrink, Image.Resampling.LANCZOS))[..., None], 3, axis=2
        ),
    )


def make_flowers(count: int, seed: int, size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """`count` flowers from the seed's stream: drawings and sketches, both (N, S, S, 3) uint8."""
    drawings = np.empty((count, size, size, 3), np.uint8)
    sketches = np.empty((count, size, size, 3), np.uint8)
    for index in range(count):
        sample = make_flower(np.random.default_rng([seed, index]), size)
        drawings[index], sketches[index] = sample.drawing, sample.sketch
    return drawings, sketches
