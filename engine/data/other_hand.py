"""Eye sketches "in another hand": a second, independent generator for held-out checks.

The model was trained on engine.data.procedural's sketches (thin grey pencil lines drawn along
the finished drawing's own design). Figures measured on those alone cannot say whether the model
follows *a sketch* or only *its own kind of sketch*. This module draws eye sketches the way a
different artist might: thick, near-black marker strokes with a shaky hand, built differently
(an almond of two arcs crossing at the corners, an iris half hidden under the upper lid, a
filled or hatched pupil, an open highlight circle, lash flicks, sometimes a crease). Nothing of
procedural.py's design or rendering code is used, so its habits cannot leak into the test.

Sketches come as Krita sends them: (side, side, 4) uint8 RGBA, dark strokes on transparency.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

# A seed no training or other held-out stream uses (procedural: 1 and 2, flowers: 31 and 32).
OTHER_HAND_SEED = 41
SUPERSAMPLE = 4  # strokes are drawn at 4x and shrunk with a box filter: anti-aliased edges
MARGIN = 0.05  # share of the layer kept free of ink on every side
# Marker width in layer pixels per layer pixel: 7 px on a 768 px layer, about 2.8x the project's
# pencil (engine.measure.crispness.PENCIL_PER_PIXEL, 2.5 px at 768 px)...
MARKER_PER_PIXEL = 7.0 / 768
# ...and never under 2.5 px, so that on small layers, too, the marker is thicker than the
# procedural sketches' pencil (about 1 px at 64 px, where the training draws them).
MIN_MARKER_PX = 2.5
_ARC_POINTS = 40


@dataclass(frozen=True)
class _Stroke:
    """One stroke of the pen in eye units (eye width 1, y down): a polyline and its widths."""

    points: np.ndarray  # (P, 2)
    widths: np.ndarray  # (P,) relative widths, 1 = the marker's full width
    shade: int  # near-black ink value of this stroke, 0..255


@dataclass(frozen=True)
class _Eye:
    """An eye's construction in eye units: lid curves, iris and pupil, extra strokes."""

    upper_height: float  # how high the upper arc rises above the corners
    lower_height: float  # how far the lower arc sags below them
    peak_shift: float  # where along the eye the upper arc peaks (asymmetry), -1..1
    iris_center: np.ndarray  # (2,)
    iris_radius: float
    pupil_radius: float
    pupil_filled: bool  # filled solid, or hatched
    highlight_center: np.ndarray  # (2,)
    highlight_radius: float


def make_other_hand_sketch(rng: np.random.Generator, side: int) -> np.ndarray:
    """One eye sketch in the other hand on a side x side layer: (side, side, 4) uint8 RGBA.

    The eye spans 0.55-0.85 of the layer (corner to corner), turned by up to 12 degrees, mirrored
    at random (left or right eye) and placed off centre; its strokes are near-black marker lines
    about 2.8x as wide as the project's pencil.
    """
    eye = _construct(rng)
    strokes = _strokes(eye, rng)
    matrix, offset = _placement(strokes, rng, side)
    ink = _base_ink(rng)
    marker = max(MARKER_PER_PIXEL * side, MIN_MARKER_PX) * rng.uniform(0.85, 1.2)
    shaky = [_shaky(stroke, rng) for stroke in strokes]
    return _render(shaky, matrix, offset, side, marker, ink, eye)


def other_hand_sketches(count: int, side: int, seed: int = OTHER_HAND_SEED) -> list[np.ndarray]:
    """The first `count` sketches of the seed's stream, each from its own (seed, index) stream:
    sketch i is the same whatever the count."""
    return [
        make_other_hand_sketch(np.random.default_rng([seed, index]), side) for index in range(count)
    ]


def _construct(rng: np.random.Generator) -> _Eye:
    """Choose the eye's proportions: an almond 1 wide, iris under the upper lid, pupil, glint."""
    upper_height = rng.uniform(0.22, 0.34)
    lower_height = rng.uniform(0.09, 0.17)
    # The iris rests on the lower lid and is taller than the opening: the upper lid hides its top.
    iris_radius = (upper_height + lower_height) * rng.uniform(0.6, 0.7)
    x = rng.uniform(-0.08, 0.1)
    center = np.array([x, _sag(lower_height, x) - iris_radius * rng.uniform(0.82, 0.95)])
    pupil_radius = iris_radius * rng.uniform(0.35, 0.5)
    glint_angle = rng.uniform(-2.6, -1.9)  # upper left or upper right of the pupil's centre
    glint = center + 0.45 * iris_radius * np.array([np.cos(glint_angle), np.sin(glint_angle)])
    return _Eye(
        upper_height=upper_height,
        lower_height=lower_height,
        peak_shift=rng.uniform(-0.25, 0.1),
        iris_center=center,
        iris_radius=iris_radius,
        pupil_radius=pupil_radius,
        pupil_filled=bool(rng.uniform() < 0.5),
        highlight_center=glint,
        highlight_radius=iris_radius * rng.uniform(0.18, 0.28),
    )


def _upper_y(eye: _Eye, x: np.ndarray) -> np.ndarray:
    """The upper lid's y at x (negative: above the corners), a skewed arch over [-0.5, 0.5]."""
    t = np.clip(2 * x, -1.0, 1.0)
    arch = np.clip(1 - t**2, 0, None) * (1 + eye.peak_shift * t)
    return -eye.upper_height * arch / (1 + abs(eye.peak_shift)) * 1.15


def _sag(lower_height: float, x: float | np.ndarray) -> np.ndarray:
    """The lower lid's y at x: a shallow sag, deepest a little towards the outer corner."""
    t = np.clip(2 * np.asarray(x), -1.0, 1.0)
    return lower_height * np.clip(1 - t**2, 0, None) * (1 + 0.2 * t)


def _lower_y(eye: _Eye, x: np.ndarray) -> np.ndarray:
    return _sag(eye.lower_height, x)


def _arc(
    eye: _Eye, lid: Callable[[_Eye, np.ndarray], np.ndarray], overshoot: tuple[float, float]
) -> np.ndarray:
    """A lid arc from corner to corner that runs on past both corners along its own tangent,
    as a quick hand stroke does: the two arcs cross instead of meeting."""
    x = np.linspace(-0.5, 0.5, _ARC_POINTS)
    points = np.stack([x, lid(eye, x)], axis=1)
    before = (
        points[0] + (points[0] - points[3]) / np.linalg.norm(points[0] - points[3]) * (overshoot[0])
    )
    after = (
        points[-1]
        + (points[-1] - points[-4]) / np.linalg.norm(points[-1] - points[-4]) * (overshoot[1])
    )
    return np.concatenate([before[None], points, after[None]])


def _circle(center: np.ndarray, radius: float, points: int = 48) -> np.ndarray:
    angle = np.linspace(0, 2 * np.pi, points)
    return center + radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)


def _below_lid(eye: _Eye, points: np.ndarray) -> np.ndarray:
    """Points moved onto the lids where they lie beyond them: the part the lids leave visible."""
    x = points[:, 0]
    y = np.clip(points[:, 1], _upper_y(eye, x), np.maximum(_lower_y(eye, x), _upper_y(eye, x)))
    return np.stack([x, y], axis=1)


def _visible_runs(eye: _Eye, loop: np.ndarray) -> list[np.ndarray]:
    """The runs of a closed outline that lie inside the almond (between the lids)."""
    x, y = loop[:, 0], loop[:, 1]
    inside = (y > _upper_y(eye, x) + 0.004) & (y < _lower_y(eye, x) - 0.004) & (abs(x) < 0.5)
    if inside.all():
        return [loop]
    start = int(np.argmin(inside))  # start outside, so no run wraps around the loop's end
    loop, inside = np.roll(loop, -start, axis=0), np.roll(inside, -start)
    runs, current = [], []
    for point, keep in zip(loop, inside, strict=True):
        if keep:
            current.append(point)
        elif current:
            runs.append(np.array(current))
            current = []
    if current:
        runs.append(np.array(current))
    return [run for run in runs if len(run) >= 3]


def _strokes(eye: _Eye, rng: np.random.Generator) -> list[_Stroke]:
    """Every pen stroke of the sketch, in the order a hand draws them: lids, iris, lashes,
    crease. The pupil's fill or hatching and the highlight are drawn at rendering."""

    def stroke(points: np.ndarray, taper: bool = False) -> _Stroke:
        widths = np.linspace(1.0, 0.35, len(points)) if taper else np.ones(len(points))
        return _Stroke(points, widths * rng.uniform(0.85, 1.1), int(rng.integers(0, 40)))

    overshoot = (rng.uniform(0.02, 0.09), rng.uniform(0.03, 0.11))
    strokes = [stroke(_arc(eye, _upper_y, overshoot))]
    strokes.append(stroke(_arc(eye, _lower_y, (rng.uniform(0.0, 0.06), rng.uniform(0.02, 0.08)))))
    iris = _circle(eye.iris_center, eye.iris_radius, 64)
    strokes += [stroke(run) for run in _visible_runs(eye, iris)]
    strokes += [stroke(flick, taper=True) for flick in _lash_flicks(eye, rng)]
    if rng.uniform() < 0.6:
        x = np.linspace(rng.uniform(-0.35, -0.2), rng.uniform(0.28, 0.42), 24)
        lift = rng.uniform(0.07, 0.13)
        strokes.append(stroke(np.stack([x, _upper_y(eye, x) * 1.05 - lift], axis=1), taper=True))
    return strokes


def _lash_flicks(eye: _Eye, rng: np.random.Generator) -> list[np.ndarray]:
    """A few short curved flicks off the outer half of the upper lid, sweeping outwards."""
    flicks = []
    for x0 in np.sort(rng.uniform(0.12, 0.5, int(rng.integers(2, 6)))):
        start = np.array([x0, _upper_y(eye, np.array([x0]))[0]])
        angle = np.radians(rng.uniform(-75, -35) + 40 * x0)  # more sideways towards the corner
        direction = np.array([np.cos(angle), np.sin(angle)])
        bend = np.array([direction[1], -direction[0]]) * -rng.uniform(0.1, 0.35)
        s = np.linspace(0, 1, 8)[:, None]
        length = rng.uniform(0.06, 0.13)
        flicks.append(start + length * (direction * s + bend * s**2))
    return flicks


def _shaky(stroke: _Stroke, rng: np.random.Generator) -> _Stroke:
    """The stroke as a hand draws it: resampled densely, with a slow sway across the line and
    a finer tremor (both in eye units, so the wobble scales with the eye)."""
    segment = np.linalg.norm(np.diff(stroke.points, axis=0), axis=1)
    along = np.concatenate([[0.0], np.cumsum(segment)])
    steps = max(8, int(along[-1] / 0.006))
    s = np.linspace(0, along[-1], steps)
    points = np.stack([np.interp(s, along, stroke.points[:, i]) for i in range(2)], axis=1)
    widths = np.interp(s, along, stroke.widths)
    tangent = np.gradient(points, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True) + 1e-12
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    sway = sum(
        rng.uniform(0.003, 0.009) * np.sin(2 * np.pi * (rng.uniform(0.4, 1.6) * s / 0.5 + phase))
        for phase in rng.uniform(0, 1, 2)
    )
    tremor = np.convolve(rng.normal(0, 0.0025, steps), np.ones(5) / 5, mode="same")
    return _Stroke(points + normal * (sway + tremor)[:, None], widths, stroke.shade)


def _placement(
    strokes: list[_Stroke], rng: np.random.Generator, side: int
) -> tuple[np.ndarray, np.ndarray]:
    """Eye units to layer pixels: mirror, turn up to 12 degrees, scale the eye's width to
    0.55-0.85 of the layer (less if its strokes would leave the margin), and place it."""
    turn = np.radians(rng.uniform(-12, 12))
    mirror = rng.choice([-1.0, 1.0])
    rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    linear = rotation @ np.diag([mirror, 1.0])
    extent = np.concatenate([stroke.points for stroke in strokes]) @ linear.T
    low, high = extent.min(axis=0) - 0.03, extent.max(axis=0) + 0.03  # room for wobble and ink
    room = side * (1 - 2 * MARGIN)
    width = min(rng.uniform(0.55, 0.85) * side, *(room / (high - low)))
    lowest = side * MARGIN - low * width
    highest = side * (1 - MARGIN) - high * width
    offset = lowest + (highest - lowest) * rng.uniform(0.2, 0.8, 2)
    return linear * width, offset


def _base_ink(rng: np.random.Generator) -> np.ndarray:
    """The pen's near-black colour: a faint warm, cool or neutral cast."""
    return np.array([rng.integers(8, 38) for _ in range(3)], np.float32)


def _render(
    strokes: list[_Stroke],
    matrix: np.ndarray,
    offset: np.ndarray,
    side: int,
    marker: float,
    ink: np.ndarray,
    eye: _Eye,
) -> np.ndarray:
    """Draw the strokes, the pupil and the open highlight at SUPERSAMPLE x and shrink them:
    alpha carries the ink's coverage, RGB its near-black colour."""
    big = side * SUPERSAMPLE
    coverage = Image.new("L", (big, big), 0)
    shade = Image.new("L", (big, big), 0)
    draw_cover, draw_shade = ImageDraw.Draw(coverage), ImageDraw.Draw(shade)

    def to_pixels(points: np.ndarray) -> np.ndarray:
        return (points @ matrix.T + offset) * SUPERSAMPLE

    def pen(stroke: _Stroke, scale: float = 1.0) -> None:
        _draw_stroke(draw_cover, draw_shade, to_pixels(stroke.points), stroke, marker * scale)

    for stroke in strokes:
        pen(stroke)
    _draw_pupil(eye, pen, to_pixels, draw_cover, marker)
    alpha = np.asarray(coverage.resize((side, side), Image.Resampling.BOX), np.float32)
    darkness = np.asarray(shade.resize((side, side), Image.Resampling.BOX), np.float32)
    layer = np.zeros((side, side, 4), np.uint8)
    # Where ink lies, its mean shade (darkness / coverage) tints the pen's base colour.
    tint = np.where(alpha > 0, 255 * darkness / np.maximum(alpha, 1), 0)[..., None]
    layer[..., :3] = np.clip(ink + tint * 0.5, 0, 60).round().astype(np.uint8)
    layer[..., 3] = np.clip(alpha * 0.97, 0, 255).round().astype(np.uint8)
    return layer


def _draw_stroke(
    cover: ImageDraw.ImageDraw,
    shade: ImageDraw.ImageDraw,
    pixels: np.ndarray,
    stroke: _Stroke,
    marker: float,
) -> None:
    """A marker stroke: segments with round joints and caps, its width following `widths`."""
    widths = stroke.widths * marker * SUPERSAMPLE
    for (a, b), width in zip(zip(pixels[:-1], pixels[1:], strict=True), widths[:-1], strict=True):
        for draw, value in ((cover, 255), (shade, stroke.shade)):
            draw.line([tuple(a), tuple(b)], fill=value, width=max(1, round(width)))
    for point, width in zip(pixels, widths, strict=True):
        r = width / 2
        for draw, value in ((cover, 255), (shade, stroke.shade)):
            draw.ellipse([point[0] - r, point[1] - r, point[0] + r, point[1] + r], fill=value)


def _draw_pupil(
    eye: _Eye,
    pen: Callable[..., None],
    to_pixels: Callable[[np.ndarray], np.ndarray],
    cover: ImageDraw.ImageDraw,
    marker: float,
) -> None:
    """The pupil, filled solid or hatched (both clipped by the upper lid), and the highlight:
    a circle drawn open, its inside cleared of the pupil's ink."""
    outline = _below_lid(eye, _circle(eye.iris_center, eye.pupil_radius))
    if eye.pupil_filled:
        cover.polygon([tuple(p) for p in to_pixels(outline)], fill=255)
    else:
        for start, end in _hatching(eye):
            pen(_Stroke(np.stack([start, end]), np.ones(2), 10), scale=0.6)
    pen(_Stroke(outline, np.ones(len(outline)), 10), scale=0.8)
    glint = to_pixels(_circle(eye.highlight_center, eye.highlight_radius))
    cover.polygon([tuple(p) for p in glint], fill=0)
    pen(_Stroke(_circle(eye.highlight_center, eye.highlight_radius), np.ones(48), 10), scale=0.6)


def _hatching(eye: _Eye) -> list[tuple[np.ndarray, np.ndarray]]:
    """Parallel diagonal chords across the pupil, spaced about a marker's width apart."""
    center, radius = eye.iris_center, eye.pupil_radius
    direction = np.array([np.cos(0.8), -np.sin(0.8)])
    across = np.array([-direction[1], direction[0]])
    chords = []
    for d in np.linspace(-0.85, 0.85, 7) * radius:
        half = np.sqrt(max(radius**2 - d**2, 0.0))
        ends = _below_lid(
            eye, np.stack([center + across * d + direction * h for h in (-half, half)])
        )
        if np.linalg.norm(ends[1] - ends[0]) > 0.01:
            chords.append((ends[0], ends[1]))
    return chords
