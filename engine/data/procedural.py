"""Seeded procedural anime-style eye drawings with their rough line sketches: stand-in data."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageChops, ImageDraw

from engine.data.geometry import ellipse, hsv, normals, tapered, wobble

TRAIN_SEED = 1
HELDOUT_SEED = 2
SUPERSAMPLE = 4  # render at 4x and downsample with LANCZOS for anti-aliased lines
MARGIN = 0.06  # fraction of the frame kept empty on every side of an eye
_LID_POINTS = 48


@dataclass(frozen=True)
class EyeSample:
    """One eye: the finished drawing and the rough sketch an artist would start it from."""

    drawing: np.ndarray = field(repr=False)  # (S, S, 3) uint8 RGB, full coloured drawing on white
    sketch: np.ndarray = field(repr=False)  # (S, S, 3) uint8 RGB, dark rough lines on white


@dataclass(frozen=True)
class _Design:
    """An eye's geometry in local units (eye width 1, v pointing down) and its colours."""

    upper: np.ndarray  # upper lid line, inner corner to outer corner
    lower: np.ndarray  # lower lid line, inner corner to outer corner
    lid_band: np.ndarray  # polygon of the thick upper lash line
    lid_center: np.ndarray  # centre line of that band, what a sketch draws
    lower_drawn: list[np.ndarray]  # the drawn parts of the lower lid, as centre lines
    lower_width: float
    strokes: list[
        tuple[np.ndarray, np.ndarray]
    ]  # lashes, wing, crease, brow: (polygon, centre line)
    iris: np.ndarray  # iris outline polygon
    iris_ring: float  # width of its dark rim
    pupil: np.ndarray  # pupil outline polygon
    crescent: np.ndarray | None  # lighter lower part of the iris
    highlights: list[np.ndarray]  # white reflections
    shadow_width: float  # the lid's shadow on the eye white
    line_rgb: tuple[int, int, int]
    iris_top_rgb: tuple[int, int, int]
    iris_bottom_rgb: tuple[int, int, int]
    iris_dark_rgb: tuple[int, int, int]
    crescent_rgb: tuple[int, int, int]
    shadow_rgb: tuple[int, int, int]
    sketch_grey: int


@dataclass(frozen=True)
class _Placement:
    """Where an eye sits in the frame: local units to pixels."""

    matrix: np.ndarray  # mirroring, tilt and scale
    offset: np.ndarray  # pixel position of the local origin
    scale: float  # pixels per unit of eye width

    def __call__(self, points: np.ndarray) -> np.ndarray:
        return points @ self.matrix.T + self.offset


def make_eye(rng: np.random.Generator, size: int = 64, line_scale: float = 1.0) -> EyeSample:
    """Draw one random eye and its rough sketch at size x size pixels.

    line_scale multiplies the sketch's pencil width and wobble, which are in pixels: 1 suits a
    64 px frame; a sketch drawn on a 768 px layer has lines a few pixels wide, not one.
    """
    design = _design(rng)
    transform = _placement(design, rng, size)
    drawing = _render_drawing(design, transform, size)
    sketch = _render_sketch(design, transform, size, rng, line_scale)
    return EyeSample(drawing=drawing, sketch=sketch)


def make_eyes(count: int, seed: int, size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Draw `count` eyes from the seed's stream: drawings and sketches, both (N, S, S, 3) uint8."""
    drawings = np.empty((count, size, size, 3), np.uint8)
    sketches = np.empty((count, size, size, 3), np.uint8)
    for index in range(count):
        # One stream per (seed, index): eye i is the same whatever the count, and seeds never share.
        sample = make_eye(np.random.default_rng([seed, index]), size)
        drawings[index] = sample.drawing
        sketches[index] = sample.sketch
    return drawings, sketches


def _profile(t: np.ndarray, a: float, b: float) -> np.ndarray:
    """A bump over t in [-1, 1], zero at both ends, peak 1 at t = (b - a) / (a + b)."""
    peak_t = (b - a) / (a + b)
    peak = (1 - peak_t) ** a * (1 + peak_t) ** b
    return np.clip(1 - t, 0, None) ** a * np.clip(1 + t, 0, None) ** b / peak


def _curve(start: np.ndarray, direction: np.ndarray, length: float, bend: float) -> np.ndarray:
    """A gently bent stroke from `start`: a quadratic curve bending to the left of `direction`."""
    s = np.linspace(0, 1, 12)[:, None]
    side = np.array([direction[1], -direction[0]])
    return start + direction * length * s + side * bend * length * s**2


def _design(rng: np.random.Generator) -> _Design:
    """Choose one eye's shape, details and colours; the outer corner is at u = +0.5.

    The parts are drawn from `rng` in a fixed order (lids, lash line, strokes, lower lid, iris,
    colours): changing it changes every procedural eye, and the pinned outputs with them.
    """
    t = np.linspace(-1, 1, _LID_POINTS)
    upper, lower = _lids(rng, t)
    lash = _lash_line(rng, t, upper)
    strokes = _lid_strokes(rng, lash)
    lower_width = rng.uniform(0.02, 0.045)
    lower_drawn = _lower_drawn(rng, lower)
    iris = _iris(rng, upper, lower)

    hue = rng.uniform()
    saturation = rng.uniform(0.45, 0.9)
    line_hue = rng.uniform()
    return _Design(
        upper=upper,
        lower=lower,
        lid_band=lash.band,
        lid_center=lash.center,
        lower_drawn=lower_drawn,
        lower_width=lower_width,
        strokes=strokes,
        iris=iris.outline,
        iris_ring=iris.rx * rng.uniform(0.06, 0.14),
        pupil=iris.pupil,
        crescent=iris.crescent,
        highlights=iris.highlights,
        shadow_width=rng.uniform(0.04, 0.12),
        line_rgb=hsv(line_hue, rng.uniform(0.2, 0.6), rng.uniform(0.06, 0.2)),
        iris_top_rgb=hsv(hue, saturation, rng.uniform(0.2, 0.4)),
        iris_bottom_rgb=hsv(
            hue + rng.uniform(-0.05, 0.05), saturation * 0.8, rng.uniform(0.7, 0.95)
        ),
        iris_dark_rgb=hsv(hue, saturation, rng.uniform(0.05, 0.15)),
        crescent_rgb=hsv(hue, saturation * 0.5, 0.97),
        shadow_rgb=hsv(hue, rng.uniform(0.05, 0.2), rng.uniform(0.8, 0.9)),
        sketch_grey=int(rng.integers(30, 90)),
    )


def _lids(rng: np.random.Generator, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The upper and lower lid lines at parameters t in [-1, 1], inner to outer corner."""
    u = t / 2
    openness = rng.uniform() ** 0.7  # anime eyes are more often wide than narrow
    up_height = 0.08 + 0.34 * openness
    low_height = 0.03 + rng.uniform(0.04, 0.22) * (0.4 + openness)
    upper = np.stack([u, -up_height * _profile(t, *rng.uniform(0.45, 1.3, 2))], axis=1)
    lower = np.stack([u, low_height * _profile(t, *rng.uniform(0.6, 1.6, 2))], axis=1)
    return upper, lower


@dataclass(frozen=True)
class _LashLine:
    """The thick upper lash line along the upper lid."""

    widths: np.ndarray  # its width at each lid point
    normal: np.ndarray  # the upper lid's unit normals, pointing up
    top: np.ndarray  # its upper edge
    band: np.ndarray  # its polygon
    center: np.ndarray  # its centre line


def _lash_line(rng: np.random.Generator, t: np.ndarray, upper: np.ndarray) -> _LashLine:
    """Thin at the inner corner, heavy towards the outer one."""
    s = (t + 1) / 2
    thickness = rng.uniform(0.04, 0.12)
    inner = np.clip(s / rng.uniform(0.2, 0.6), 0, 1) ** 0.7
    outer = np.clip((1 - s) / 0.06, 0.35, 1)
    widths = thickness * (0.12 + 0.88 * inner) * outer
    normal = normals(upper)
    top = upper + normal * widths[:, None]
    return _LashLine(
        widths=widths,
        normal=normal,
        top=top,
        band=np.concatenate([upper, top[::-1]]),
        center=upper + normal * (widths[:, None] / 2),
    )


def _lid_strokes(rng: np.random.Generator, lash: _LashLine) -> list[tuple[np.ndarray, np.ndarray]]:
    """The wing, the lashes, the crease and the eyebrow, each maybe: (polygon, centre line)."""
    strokes = []
    line_width = lash.widths[-8]
    if rng.uniform() < 0.6:  # the flick past the outer corner
        angle = np.radians(rng.uniform(-30, 30))
        wing = _curve(
            lash.center[-1],
            np.array([np.cos(angle), np.sin(angle)]),
            rng.uniform(0.04, 0.14),
            rng.uniform(0, 0.5),
        )
        strokes.append((tapered(wing, line_width * np.linspace(1, 0.1, len(wing))), wing))
    lash_count = rng.choice(6, p=[0.15, 0.15, 0.2, 0.2, 0.18, 0.12])
    for position in np.sort(rng.uniform(0.5, 0.97, lash_count)):
        i = int(position * (_LID_POINTS - 1))
        lean = np.radians(rng.uniform(25, 55) + 25 * position)
        n = lash.normal[i]
        direction = np.array(
            [n[0] * np.cos(lean) + n[1] * np.sin(lean), -n[0] * np.sin(lean) + n[1] * np.cos(lean)]
        )
        hair = _curve(
            lash.top[i] - n * lash.widths[i] * 0.3,
            direction,
            rng.uniform(0.04, 0.13),
            -rng.uniform(0.1, 0.5),
        )
        taper = line_width * rng.uniform(0.5, 0.9) * np.linspace(1, 0.05, len(hair))
        strokes.append((tapered(hair, taper), hair))
    if rng.uniform() < 0.45:  # the double-eyelid crease
        start, stop = (
            int(rng.uniform(0.1, 0.35) * _LID_POINTS),
            int(rng.uniform(0.8, 0.97) * _LID_POINTS),
        )
        crease = (lash.top + lash.normal * rng.uniform(0.04, 0.1))[start:stop]
        fade = np.sin(np.linspace(0, np.pi, len(crease))) ** 0.5
        strokes.append((tapered(crease, rng.uniform(0.008, 0.018) * (0.2 + 0.8 * fade)), crease))
    if rng.uniform() < 0.5:  # an eyebrow above the lid
        bt = np.linspace(-1, 1, 24)
        lift = lash.top[:, 1].min() - rng.uniform(0.1, 0.28)
        bu = rng.uniform(-0.55, -0.35) + (bt + 1) / 2 * rng.uniform(0.75, 1.05)
        bv = lift - rng.uniform(0.02, 0.1) * (1 - bt**2) + rng.uniform(-0.08, 0.08) * bt
        brow = np.stack([bu, bv], axis=1)
        brow_widths = rng.uniform(0.015, 0.045) * np.linspace(1, 0.2, len(brow)) ** 0.6
        strokes.append((tapered(brow, brow_widths), brow))
    return strokes


def _lower_drawn(rng: np.random.Generator, lower: np.ndarray) -> list[np.ndarray]:
    """The parts of the lower lid a drawing shows: all of it, its outer part, or none."""
    kind = rng.choice(["full", "partial", "absent"], p=[0.35, 0.45, 0.2])
    if kind == "full":
        return [lower[3:-1]]
    if kind == "partial":
        start = int(rng.uniform(0.3, 0.7) * _LID_POINTS)
        return [lower[start:-1]]
    return []


@dataclass(frozen=True)
class _Iris:
    """The iris and what is drawn inside it, as polygons."""

    outline: np.ndarray
    rx: float  # its horizontal radius
    pupil: np.ndarray
    crescent: np.ndarray | None  # lighter lower part, maybe
    highlights: list[np.ndarray]  # white reflections


def _iris(rng: np.random.Generator, upper: np.ndarray, lower: np.ndarray) -> _Iris:
    """Large and tall, as in anime, cut off by the lids."""
    iris_rx = rng.uniform(0.16, 0.28)
    iris_ry = iris_rx * rng.uniform(1.0, 1.45)
    iris_u = rng.uniform(-0.1, 0.1)
    lid_up = np.interp(iris_u, upper[:, 0], upper[:, 1])
    lid_low = np.interp(iris_u, lower[:, 0], lower[:, 1])
    iris_v = lid_up + (lid_low - lid_up) * rng.uniform(0.4, 0.6)
    outline = ellipse(iris_u, iris_v, iris_rx, iris_ry)
    pupil_v = iris_v - iris_ry * rng.uniform(0.0, 0.12)
    if rng.uniform() < 0.15:  # a cat-like slit pupil
        pupil = ellipse(
            iris_u, pupil_v, iris_rx * rng.uniform(0.08, 0.16), iris_ry * rng.uniform(0.6, 0.8)
        )
    else:
        pupil_r = rng.uniform(0.28, 0.5)
        pupil = ellipse(
            iris_u, pupil_v, iris_rx * pupil_r, iris_ry * pupil_r * rng.uniform(0.9, 1.15)
        )
    crescent = None
    if rng.uniform() < 0.5:
        crescent = ellipse(iris_u, iris_v + iris_ry * 0.45, iris_rx * 0.7, iris_ry * 0.38)
    side = rng.choice([-1.0, 1.0])
    main_r = iris_rx * rng.uniform(0.2, 0.34)
    highlights = [
        ellipse(
            iris_u + side * iris_rx * rng.uniform(0.25, 0.45),
            iris_v - iris_ry * rng.uniform(0.25, 0.45),
            main_r,
            main_r * rng.uniform(0.8, 1.3),
        )
    ]
    for _ in range(rng.integers(0, 3)):
        r = iris_rx * rng.uniform(0.07, 0.15)
        hu = iris_u + rng.uniform(-0.5, 0.5) * iris_rx
        hv = iris_v + rng.uniform(0.1, 0.5) * iris_ry
        highlights.append(ellipse(hu, hv, r, r))
    return _Iris(outline, iris_rx, pupil, crescent, highlights)


def _placement(design: _Design, rng: np.random.Generator, size: int) -> _Placement:
    """Choose mirroring, tilt, size and position; return the map from local units to pixels."""
    mirror = rng.choice([-1.0, 1.0])
    tilt = np.radians(rng.uniform(-20, 20))
    rotation = np.array([[np.cos(tilt), -np.sin(tilt)], [np.sin(tilt), np.cos(tilt)]])
    linear = rotation @ np.diag([mirror, 1.0])
    shapes = [design.lid_band, design.lower, design.iris] + [
        polygon for polygon, _ in design.strokes
    ]
    extent = np.concatenate(shapes) @ linear.T
    low, high = extent.min(axis=0), extent.max(axis=0)
    room = size * (1 - 2 * MARGIN)
    width = min(rng.uniform(0.4, 0.85) * size, room / (high[0] - low[0]), room / (high[1] - low[1]))
    lowest = size * MARGIN - low * width
    highest = size * (1 - MARGIN) - high * width
    offset = lowest + (highest - lowest) * rng.uniform(size=2)
    return _Placement(matrix=linear * width, offset=offset, scale=width)


def _xy(points: np.ndarray) -> list[tuple[float, float]]:
    return [tuple(p) for p in (points * SUPERSAMPLE).tolist()]


def _render_drawing(design: _Design, transform: _Placement, size: int) -> np.ndarray:
    big = size * SUPERSAMPLE
    opening_points = transform(np.concatenate([design.upper, design.lower[::-1]]))
    opening = Image.new("L", (big, big), 0)
    ImageDraw.Draw(opening).polygon(_xy(opening_points), fill=255)

    canvas = Image.new("RGB", (big, big), (255, 255, 255))
    shadow = Image.new("L", (big, big), 0)
    shadow_band = design.upper - normals(design.upper) * design.shadow_width
    shadow_polygon = np.concatenate([design.upper, shadow_band[::-1]])
    ImageDraw.Draw(shadow).polygon(_xy(transform(shadow_polygon)), fill=150)
    canvas.paste(design.shadow_rgb, mask=ImageChops.multiply(shadow, opening))

    iris_points = transform(design.iris)
    top, bottom = iris_points[:, 1].min() * SUPERSAMPLE, iris_points[:, 1].max() * SUPERSAMPLE
    ramp = np.clip((np.arange(big) - top) / max(bottom - top, 1), 0, 1)[:, None, None] ** 0.8
    gradient = np.array(design.iris_top_rgb) * (1 - ramp) + np.array(design.iris_bottom_rgb) * ramp
    iris_layer = Image.fromarray(gradient.astype(np.uint8)).resize(
        (big, big), Image.Resampling.NEAREST
    )
    draw = ImageDraw.Draw(iris_layer)
    if design.crescent is not None:
        draw.polygon(_xy(transform(design.crescent)), fill=design.crescent_rgb)
    rim = np.concatenate([iris_points, iris_points[:1]])
    rim_widths = np.full(len(rim), design.iris_ring * transform.scale)
    draw.polygon(_xy(tapered(rim, rim_widths)), fill=design.iris_dark_rgb)
    draw.polygon(_xy(transform(design.pupil)), fill=design.iris_dark_rgb)
    for highlight in design.highlights:
        draw.polygon(_xy(transform(highlight)), fill=(255, 255, 255))
    iris_mask = Image.new("L", (big, big), 0)
    ImageDraw.Draw(iris_mask).polygon(_xy(iris_points), fill=255)
    canvas.paste(iris_layer, mask=ImageChops.multiply(iris_mask, opening))

    draw = ImageDraw.Draw(canvas)
    draw.polygon(_xy(transform(design.lid_band)), fill=design.line_rgb)
    for part in design.lower_drawn:
        taper = 0.15 + 0.85 * np.sin(np.linspace(0, np.pi, len(part))) ** 0.5
        draw.polygon(
            _xy(transform(tapered(part, design.lower_width * taper))), fill=design.line_rgb
        )
    for polygon, _ in design.strokes:
        draw.polygon(_xy(transform(polygon)), fill=design.line_rgb)
    return np.asarray(canvas.resize((size, size), Image.Resampling.LANCZOS))


def _inside_opening(design: _Design, points: np.ndarray) -> np.ndarray:
    u = design.upper[:, 0]
    inside_u = (points[:, 0] > u[0]) & (points[:, 0] < u[-1])
    top = np.interp(points[:, 0], u, design.upper[:, 1])
    bottom = np.interp(points[:, 0], u, design.lower[:, 1])
    return inside_u & (points[:, 1] > top) & (points[:, 1] < bottom)


def _clipped_runs(design: _Design, loop: np.ndarray) -> list[np.ndarray]:
    """The parts of a closed outline that lie inside the eye opening, as open polylines."""
    inside = _inside_opening(design, loop)
    if inside.all():
        return [np.concatenate([loop, loop[:1]])]
    start = int(np.argmin(inside))  # rotate so the loop starts outside and no run wraps around
    loop, inside = np.roll(loop, -start, axis=0), np.roll(inside, -start)
    edges = np.flatnonzero(np.diff(np.append(inside, False).astype(np.int8)))
    return [loop[a + 1 : b + 1] for a, b in zip(edges[::2], edges[1::2], strict=True) if b - a >= 2]


def _render_sketch(
    design: _Design,
    transform: _Placement,
    size: int,
    rng: np.random.Generator,
    line_scale: float = 1.0,
) -> np.ndarray:
    big = size * SUPERSAMPLE
    lines = [design.lid_center, *design.lower_drawn, *(center for _, center in design.strokes)]
    lines += _clipped_runs(design, design.iris) + _clipped_runs(design, design.pupil)
    canvas = Image.new("L", (big, big), 255)
    draw = ImageDraw.Draw(canvas)
    for line in lines:
        points = wobble(transform(line), rng, line_scale)
        # Pencil pressure: about 1 px wide, lighter towards the ends of an open stroke.
        pressure = np.sin(np.linspace(0, np.pi, len(points))) ** 0.5
        if np.allclose(line[0], line[-1]):
            pressure[:] = 1.0
        widths = rng.uniform(0.9, 1.5) * (0.5 + 0.5 * pressure) * line_scale
        draw.polygon(_xy(tapered(points, widths)), fill=design.sketch_grey)
    sketch = np.asarray(canvas.resize((size, size), Image.Resampling.LANCZOS))
    return np.repeat(sketch[..., None], 3, axis=2)
