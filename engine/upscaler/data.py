"""Training pairs for the upsampler: drawings at high resolution, their sketches, degraded 64 px.

The 64 px input is degraded the way cascaded diffusion models degrade their low-resolution
conditioning (blur, noise, colour shift, a small offset from the sketch), so stage 1's soft,
slightly misplaced variants do not surprise the stage that sharpens them.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from engine.upscaler.config import UpscalerTrainConfig
from engine.upscaler.network import sketch_darkness

INK_CROP_SHARE = 0.85  # share of crops centred on a drawn pixel; the rest anywhere


@dataclass(frozen=True)
class HighResDrawing:
    """One training drawing at its own side T (a multiple of the upsampler's factor)."""

    drawing: np.ndarray  # (T, T, 3) uint8 RGB on white
    darkness: np.ndarray  # (T, T) uint8: the sketch's darkness, 0 = white
    low: np.ndarray  # (s, s, 3) float32 in [-1, 1]: the drawing shrunk to stage 1's size
    # (k, s, s, 3) float32 in [-1, 1]: stage 1's re-drawings of `low` (engine.upscaler.stage_one)
    stage_one: np.ndarray | None = None


@dataclass(frozen=True)
class UpscalerBatch:
    """Crops of one training step: the network's inputs and its target."""

    low_on_grid: np.ndarray  # (B, C, C, 3) degraded stage-1 image resized to the crop's cells
    darkness: np.ndarray  # (B, C*f, C*f, 1) sketch darkness in [0, 1]
    blown_up: np.ndarray  # (B, C*f, C*f, 3) degraded stage-1 image, bicubic to full resolution
    targets: np.ndarray  # (B, C*f, C*f, 3) the drawing in [-1, 1]


def to_training_drawing(drawing: np.ndarray, sketch: np.ndarray, low_size: int) -> HighResDrawing:
    """Pair a high-resolution drawing and sketch with the drawing shrunk to stage 1's size."""
    low = Image.fromarray(drawing).resize((low_size, low_size), Image.Resampling.BOX)
    return HighResDrawing(
        drawing=drawing,
        darkness=sketch_darkness(sketch),
        low=np.asarray(low, np.float32) / 127.5 - 1.0,
    )


def procedural_drawings(
    eyes: int, shapes: int, config: UpscalerTrainConfig, factor: int, seed: int
) -> list[HighResDrawing]:
    """Eyes and other line art at random sides, rendered on two processes (CPU-bound PIL)."""
    jobs = [("eye", seed, index) for index in range(eyes)]
    jobs += [("shapes", seed, index) for index in range(shapes)]
    render = _Renderer(
        config.min_side, config.max_side, factor, config.low_size, config.construction_share
    )
    with ProcessPoolExecutor(max_workers=2) as pool:
        return list(pool.map(render, jobs, chunksize=8))


@dataclass(frozen=True)
class _Renderer:
    min_side: int
    max_side: int
    factor: int
    low_size: int
    construction_share: float

    def __call__(self, job: tuple[str, int, int]) -> HighResDrawing:
        from engine.data.construction import with_construction
        from engine.data.procedural import make_eye
        from engine.data.shapes import make_shapes

        kind, seed, index = job
        # Its own stream for size and pencil, so the drawing itself is the seed's drawing.
        rng = np.random.default_rng([seed, index, 1])
        cells = rng.integers(self.min_side // self.factor, self.max_side // self.factor + 1)
        side = int(cells * self.factor)
        # Artists' pencil lines are a few pixels wide on a 512-1024 px layer.
        line_scale = rng.uniform(1.2, 4.0) * side / 768
        stream = np.random.default_rng([seed, index])
        if kind == "eye":
            sample = make_eye(stream, side, line_scale)
            drawing, sketch = sample.drawing, sample.sketch
        else:
            drawing, sketch = make_shapes(stream, side, line_scale)
        if rng.random() < self.construction_share:
            sketch = with_construction(sketch, rng, line_scale)
        return to_training_drawing(drawing, sketch, self.low_size)


def make_upscaler_batch(
    drawings: list[HighResDrawing],
    config: UpscalerTrainConfig,
    factor: int,
    rng: np.random.Generator,
    resize: Callable[[np.ndarray, int, str], np.ndarray],
) -> UpscalerBatch:
    """Random crops of random drawings, the 64 px input degraded anew for each.

    resize(images (s, s, 3), side, method) must be the resize generation uses, so the stage
    trains on exactly the blow-ups it will be given.
    """
    cells = config.crop_cells
    crop = cells * factor
    low_on_grid, darkness, blown_up, targets = [], [], [], []
    for index in rng.integers(len(drawings), size=config.batch_size):
        item = drawings[index]
        side = item.drawing.shape[0]
        low = degrade(_stage_one_input(item, config, rng), config, rng)
        left, top = _crop_origin(item, crop, factor, rng)
        cell_left, cell_top = left // factor, top // factor
        grid = np.asarray(resize(low, side // factor, "bilinear"))
        low_on_grid.append(grid[cell_top : cell_top + cells, cell_left : cell_left + cells])
        window = (slice(top, top + crop), slice(left, left + crop))
        blown_up.append(np.asarray(resize(low, side, "bicubic"))[window])
        darkness.append(item.darkness[window][..., None].astype(np.float32) / 255.0)
        targets.append(item.drawing[window].astype(np.float32) / 127.5 - 1.0)
    if rng.random() < 0.5:  # mirrored drawings are still drawings
        flip = lambda arrays: [a[:, ::-1] for a in arrays]  # noqa: E731
        low_on_grid, darkness, blown_up, targets = map(
            flip, (low_on_grid, darkness, blown_up, targets)
        )
    arrays = (low_on_grid, darkness, blown_up, targets)
    return UpscalerBatch(*(np.stack(a).astype(np.float32) for a in arrays))


def _stage_one_input(
    item: HighResDrawing, config: UpscalerTrainConfig, rng: np.random.Generator
) -> np.ndarray:
    """The 64 px input before degradation: the drawing, or stage 1's re-drawing of it."""
    if item.stage_one is not None and rng.random() < config.stage_one_share:
        return item.stage_one[rng.integers(len(item.stage_one))]
    return item.low


def degrade(low: np.ndarray, config: UpscalerTrainConfig, rng: np.random.Generator) -> np.ndarray:
    """Thicken lines, blur, shift, colour-shift, noise and mottle a 64 px image in [-1, 1], by
    random amounts."""
    low = thickened(low, rng.uniform(0, config.thicken_max)) if config.thicken_max else low
    sigma = rng.uniform(0.2, max(config.blur_max, 0.2))
    shift = rng.uniform(-config.shift_max, config.shift_max, 2)
    out = _shifted_blur(low, sigma, shift[0], axis=1)
    out = _shifted_blur(out, sigma, shift[1], axis=0)
    gain = 1.0 + rng.uniform(-0.06, 0.06, 3)
    offset = rng.uniform(-0.06, 0.06, 3)
    noise = rng.standard_normal(out.shape).astype(np.float32) * rng.uniform(0, config.noise_max)
    out = (out - 1.0) * gain + 1.0 + offset + noise
    if config.mottle_max:  # drawn last, so the other degradations match the recipe without it
        out += smooth_field(out.shape, rng) * rng.uniform(0, config.mottle_max)
    return np.clip(out, -1.0, 1.0).astype(np.float32)


def smooth_field(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Random colour blotches (H, W, C) of unit deviation, 8-21 cells over the side, smooth
    between them (bicubic)."""
    height, width, channels = shape
    cells = int(rng.integers(8, 22))
    planes = []
    for coarse in rng.standard_normal((channels, cells, cells)).astype(np.float32):
        plane = Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC)
        planes.append(np.asarray(plane))
    field = np.stack(planes, axis=-1)
    return (field - field.mean()) / max(float(field.std()), 1e-6)


def thickened(image: np.ndarray, amount: float) -> np.ndarray:
    """The image blended by `amount` towards its 3 x 3 minimum: dark lines darker and wider."""
    padded = np.pad(image, ((1, 1), (1, 1), (0, 0)), constant_values=1.0)
    height, width = image.shape[:2]
    darkest = np.min(
        [padded[dy : dy + height, dx : dx + width] for dy in range(3) for dx in range(3)], axis=0
    )
    return (1.0 - amount) * image + amount * darkest


def _shifted_blur(image: np.ndarray, sigma: float, shift: float, axis: int) -> np.ndarray:
    """Gaussian blur along one axis whose centre is moved by `shift` pixels (edges: white)."""
    radius = int(np.ceil(3 * sigma + abs(shift)))
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-((offsets - shift) ** 2) / (2 * sigma**2))
    kernel /= kernel.sum()
    pad = [(0, 0)] * image.ndim
    pad[axis] = (radius, radius)
    padded = np.pad(image, pad, constant_values=1.0)
    length = image.shape[axis]
    out = np.zeros_like(image)
    for weight, offset in zip(kernel, offsets, strict=True):
        out += weight * np.take(padded, np.arange(length) + radius - offset, axis=axis)
    return out


def _crop_origin(
    item: HighResDrawing, crop: int, factor: int, rng: np.random.Generator
) -> tuple[int, int]:
    """Top-left corner of a crop, cell-aligned: mostly centred on something drawn."""
    side = item.drawing.shape[0]
    limit = (side - crop) // factor
    if rng.random() < INK_CROP_SHARE:
        ys, xs = np.nonzero(item.darkness[::4, ::4] > 40)
        if len(ys):
            pick = rng.integers(len(ys))
            centre = np.array([xs[pick], ys[pick]]) * 4 + rng.integers(-crop // 3, crop // 3, 2)
            left, top = np.clip((centre - crop // 2) // factor, 0, limit)
            return int(left) * factor, int(top) * factor
    left, top = rng.integers(0, limit + 1, 2)
    return int(left) * factor, int(top) * factor


def folder_drawings(path: Path, config: UpscalerTrainConfig, factor: int) -> list[HighResDrawing]:
    """An artist's drawings at their own resolution (up to max_side), each with its sketch.

    Their drawings are usually large: free high-resolution targets for a style they taught.
    """
    from engine.data.folder import drawing_files, fit_on_white
    from engine.data.strokes import sketch_from_drawing
    from engine.images import read_image

    crop = config.crop_cells * factor
    drawings = []
    for file in drawing_files(path):
        rgba = read_image(file)
        side = min(config.max_side, max(rgba.shape[:2]))
        side = max(crop, side - side % factor)
        drawing = fit_on_white(rgba, side)
        sketch = Image.fromarray(sketch_from_drawing(drawing))
        # Extracted strokes are one pixel wide; a pencil on a large layer is a few.
        pencil = 3 if side >= 512 else 1
        sketch = np.asarray(sketch.filter(ImageFilter.MinFilter(pencil)))
        drawings.append(to_training_drawing(drawing, sketch, config.low_size))
    return drawings
