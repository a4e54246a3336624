"""Geometry shared by the procedural drawings: strokes as polygons, ellipses, rough lines."""

from __future__ import annotations

import colorsys

import numpy as np

ELLIPSE_POINTS = 72


def normals(points: np.ndarray) -> np.ndarray:
    """Unit normals of a polyline, pointing left of its direction (up for a left-to-right line)."""
    tangent = np.gradient(points, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True) + 1e-9
    return np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)


def tapered(center: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """Polygon of a stroke along `center` whose width varies point by point."""
    offset = normals(center) * (widths[:, None] / 2)
    return np.concatenate([center + offset, (center - offset)[::-1]])


def ellipse(cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
    angle = np.linspace(0, 2 * np.pi, ELLIPSE_POINTS, endpoint=False)
    return np.stack([cx + rx * np.cos(angle), cy + ry * np.sin(angle)], axis=1)


def hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0.0), 1.0), min(max(v, 0.0), 1.0))
    return round(r * 255), round(g * 255), round(b * 255)


def wobble(points: np.ndarray, rng: np.random.Generator, scale: float = 1.0) -> np.ndarray:
    """Make a line rough: shift it, let it wave a little and over- or undershoot its ends."""
    length = np.linalg.norm(np.diff(points, axis=0), axis=1).sum()
    closed = np.allclose(points[0], points[-1])
    cycles = rng.uniform(0.5, 1.5) * length / (30 * scale)
    if closed:  # a whole number of waves, so the loop meets itself without a kink
        cycles = max(1, round(cycles))
    s = np.linspace(0, 1, len(points))[:, None]
    waves = scale * rng.uniform(0.1, 0.4) * np.sin(2 * np.pi * (cycles * s + rng.uniform()))
    rough = points + normals(points) * waves + scale * rng.normal(0, 0.35, 2)
    if not closed:
        for end, neighbour in ((0, 1), (-1, -2)):
            direction = rough[end] - rough[neighbour]
            overshoot = scale * rng.uniform(-0.5, 1.2)
            rough[end] += direction / (np.linalg.norm(direction) + 1e-9) * overshoot
    return rough
