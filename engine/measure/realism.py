"""Realism: how near variants are to finished drawings of the style, in colour and shape.

Images are (N, H, W, 3) float arrays in [0, 1] on white. The figure is a KID (Binkowski et al.
2018) on hand-made style features (nothing to download): thumbnail colours, a hue x saturation
histogram of the painted pixels, and edge-orientation histograms. Its scale is read against
references made from real drawings: other real drawings (the floor), the same blurred through
the model's size, half desaturated, and in greyscale.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from engine.diffusion.colour import hue_saturation, painted
from engine.diffusion.masks import ink_of
from engine.framing import crop_to_model, frame_sketch
from engine.images import flatten_on_white, opaque
from engine.measure.defects import sketch_defects, summarised
from engine.request import GenerateRequest

if TYPE_CHECKING:  # the pipeline imports TensorFlow; the measurements take it as given
    from engine.pipeline import Engine

HUE_BINS = 12
SATURATION_BINS = 4
THUMBNAIL = 8  # thumbnail side of the colour features
ORIENTATION_CELLS = 4  # cells per side of the edge-orientation histograms
ORIENTATION_BINS = 8
# Weights that bring each feature group to a mean norm of about 1 on finished drawings (eyes and
# flowers alike): unweighted, the 192 thumbnail numbers drown the 48 colour bins, and drawings
# half desaturated score as real as the real ones.
THUMBNAIL_WEIGHT = 1 / 13
COLOUR_WEIGHT = 2.3
ORIENTATION_WEIGHT = 1 / 3


def saturation_p90(images: np.ndarray) -> float:
    """90th percentile of the painted pixels' saturation: how colourful the paint is."""
    mask = painted(images)
    if not mask.any():
        return 0.0
    return float(np.percentile(hue_saturation(images)[1][mask], 90))


def style_features(images: np.ndarray) -> np.ndarray:
    """One feature row per image: thumbnail colours, hue x saturation, edge orientations."""
    count, height, width, _ = images.shape
    thumbnails = np.stack([resize(image, THUMBNAIL) for image in images]).reshape(count, -1)

    hue, saturation = hue_saturation(images)
    mask = painted(images)
    hue_bin = np.minimum((hue * HUE_BINS).astype(int), HUE_BINS - 1)
    saturation_bin = np.minimum((saturation * SATURATION_BINS).astype(int), SATURATION_BINS - 1)
    cell = hue_bin * SATURATION_BINS + saturation_bin
    colours = np.zeros((count, HUE_BINS * SATURATION_BINS))
    for index in range(count):
        colours[index] = np.bincount(cell[index][mask[index]], minlength=HUE_BINS * SATURATION_BINS)
    colours /= np.maximum(mask.sum((1, 2)), 1)[:, None]

    gray = images.mean(-1)
    gy, gx = np.gradient(gray, axis=(1, 2))
    magnitude = np.hypot(gx, gy)
    bins = ((np.arctan2(gy, gx) + np.pi) / (2 * np.pi) * ORIENTATION_BINS).astype(int)
    bins %= ORIENTATION_BINS
    cells = ORIENTATION_CELLS
    orientation = np.zeros((count, cells, cells, ORIENTATION_BINS))
    for b in range(ORIENTATION_BINS):
        weighted = np.where(bins == b, magnitude, 0.0)
        orientation[..., b] = weighted.reshape(
            count, cells, height // cells, cells, width // cells
        ).sum((2, 4))
    # Gradients per pixel shrink as the image grows; per-cell sums scaled to be size-free.
    orientation *= cells / height
    return np.concatenate(
        [
            THUMBNAIL_WEIGHT * thumbnails,
            COLOUR_WEIGHT * colours,
            ORIENTATION_WEIGHT * orientation.reshape(count, -1),
        ],
        axis=1,
    )


def kid_x1000(real_features: np.ndarray, fake_features: np.ndarray) -> float:
    """KID x 1000: unbiased MMD^2 with a cubic polynomial kernel on feature rows."""
    dims = real_features.shape[1]

    def kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (x @ y.T / dims + 1.0) ** 3

    m, n = len(real_features), len(fake_features)
    k_rr = kernel(real_features, real_features)
    k_ff = kernel(fake_features, fake_features)
    term_rr = (k_rr.sum() - np.trace(k_rr)) / (m * (m - 1))
    term_ff = (k_ff.sum() - np.trace(k_ff)) / (n * (n - 1))
    return float(1000 * (term_rr + term_ff - 2 * kernel(real_features, fake_features).mean()))


def desaturated(images: np.ndarray, amount: float) -> np.ndarray:
    """Images with `amount` (0..1) of their colour taken out toward their grey."""
    gray = images.mean(-1, keepdims=True)
    return images + amount * (gray - images)


def blurred_through(images: np.ndarray, side: int) -> np.ndarray:
    """Images shrunk to side x side and enlarged back: what a plain blow-up of the model shows."""
    full = images.shape[1]
    return np.stack(
        [resize(resize(image, side), full, Image.Resampling.BICUBIC) for image in images]
    )


def references(real: np.ndarray, other_real: np.ndarray, model_side: int) -> dict[str, np.ndarray]:
    """The sets the realism scale is read against, each made from real held-out drawings."""
    return {
        "other real drawings (floor)": other_real,
        f"real drawings blurred through {model_side} px": blurred_through(other_real, model_side),
        "real drawings half desaturated": desaturated(other_real, 0.5),
        "real drawings in greyscale": desaturated(other_real, 1.0),
    }


def realism_table(real: np.ndarray, sets: dict[str, np.ndarray]) -> list[dict[str, float | str]]:
    """KID x1000 against `real` and the saturation figure of every set, with `real`'s own."""
    real_features = style_features(real)
    rows: list[dict[str, float | str]] = []
    for label, images in sets.items():
        rows.append(
            {
                "set": label,
                "kid_x1000": kid_x1000(real_features, style_features(images)),
                "saturation_p90": saturation_p90(images),
            }
        )
    return rows


def resize(
    image: np.ndarray, side: int, method: Image.Resampling = Image.Resampling.BOX
) -> np.ndarray:
    channels = [
        np.asarray(
            Image.fromarray(image[..., c].astype(np.float32), "F").resize((side, side), method)
        )
        for c in range(image.shape[-1])
    ]
    return np.clip(np.stack(channels, axis=-1), 0.0, 1.0)


def sketch_seed(index: int, count: int) -> int:
    """The first seed of the held-out sketch `index`'s variants: every sketch gets its own seeds,
    as an artist's requests do. With seeds 0..7 for every sketch, the measured set held only the
    8 palette colours those seeds draw, and its hue histogram, not the drawing, decided its KID."""
    return index * count


REALISM_SIDE = 128  # side at which variants and drawings are compared
REFERENCE_COUNT = 128  # held-out drawings in the reference set and in the floor set
PICTURE_COLUMNS = 3  # held-out eyes in the picture
PICTURE_VARIANTS = 3  # variants shown under each


@dataclass(frozen=True)
class HeldOut:
    """Held-out eyes on layers: each finished drawing and its sketch layer, at the layer's side."""

    drawings: list[np.ndarray]  # (side, side, 3) float in [0, 1], the finished drawing
    layers: list[np.ndarray]  # (side, side, 4) uint8, the sketch as dark strokes on transparency


def framed_drawing(drawing: np.ndarray, sketch_layer: np.ndarray, side: int) -> np.ndarray:
    """The finished drawing inside its sketch's frame (the square variants fill), at side."""
    layer = opaque(np.round(drawing * 255).astype(np.uint8))
    return crop_to_model(layer, frame_sketch(sketch_layer), side)


def variants_on_white(
    engine: Engine, layer: np.ndarray, count: int, side: int, seed: int = 0
) -> np.ndarray:
    """An engine's default variants of a sketch layer in its frame on white: (count, S, S, 3),
    with seeds from `seed` on."""
    return shrunk(variants_as_drawn(engine, layer, count, seed), side)


def variants_as_drawn(engine: Engine, layer: np.ndarray, count: int, seed: int) -> np.ndarray:
    """The default variants in their frame on white at the pixels the engine drew them:
    (count, P, P, 3) float in [0, 1], with seeds from `seed` on."""
    result = engine.generate(GenerateRequest(sketch=layer, count=count, seed=seed))
    return np.stack([flatten_on_white(variant.patch) for variant in result.variants])


def shrunk(images: np.ndarray, side: int) -> np.ndarray:
    """Images (N, P, P, 3) resized to side as realism compares them."""
    return np.stack([resize(image, side, Image.Resampling.LANCZOS) for image in images])


def measure_realism(
    engine: Engine, held_out: HeldOut, sketch_count: int, count: int, picture: Path | None
) -> dict:
    """Variants of the first `sketch_count` held-out sketches against the other drawings: half
    of them the reference set, the other half the floor (real against real).

    Writes `picture` (when given): held-out drawings in the top row, their sketches, then
    variants, at the layer's size. Returns the table rows and the real drawings' saturation.
    """
    real, sets = reference_sets(held_out, sketch_count, engine.size)
    variants, defects = judged_variants(engine, held_out, sketch_count, count)
    rows = realism_table(real, {**sets, "variants (default settings)": np.concatenate(variants)})
    if picture is not None:
        write_picture(engine, held_out, picture)
    return {
        "side": REALISM_SIDE,
        "real_saturation_p90": saturation_p90(real),
        "rows": rows,
        **defects,
    }


def judged_variants(
    engine: Engine, held_out: HeldOut, sketch_count: int, count: int
) -> tuple[list[np.ndarray], dict[str, float]]:
    """The default variants of the first `sketch_count` held-out sketches (each its own seeds)
    at REALISM_SIDE, and their line weight, colour spill, flat fills and dark fills against their
    own drawings (engine.measure.defects), measured at the pixels the engine drew them."""
    variants, defects = [], []
    pairs = zip(held_out.drawings[:sketch_count], held_out.layers[:sketch_count], strict=True)
    for index, (drawing, layer) in enumerate(pairs):
        drawn = variants_as_drawn(engine, layer, count, seed=sketch_seed(index, count))
        side = drawn.shape[1]
        ink = ink_of(crop_to_model(layer, frame_sketch(layer), side))
        defects.append(sketch_defects(drawn, framed_drawing(drawing, layer, side), ink))
        variants.append(shrunk(drawn, REALISM_SIDE))
    return variants, summarised(defects)


def reference_sets(
    held_out: HeldOut, sketch_count: int, model_side: int
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The held-out drawings after the first `sketch_count` in their frames at REALISM_SIDE:
    the first half the reference set, and the reference sets made from the second half."""
    framed = [
        framed_drawing(drawing, layer, REALISM_SIDE)
        for drawing, layer in zip(held_out.drawings, held_out.layers, strict=True)
    ]
    reference_count = (len(framed) - sketch_count) // 2
    real = np.stack(framed[sketch_count : sketch_count + reference_count])
    other_real = np.stack(framed[sketch_count + reference_count :])
    return real, references(real, other_real, model_side)


def write_picture(engine: Engine, held_out: HeldOut, path: Path) -> None:
    """Held-out drawings in the top row, their sketches, then variants, at the layer's pixels."""
    columns = []
    pairs = list(zip(held_out.drawings, held_out.layers, strict=True))[:PICTURE_COLUMNS]
    for drawing, layer in pairs:
        side = frame_sketch(layer).side  # the layer's own pixels: 100 % zoom
        tiles = [
            framed_drawing(drawing, layer, side),
            crop_to_model(layer, frame_sketch(layer), side),
        ]
        tiles += list(variants_on_white(engine, layer, PICTURE_VARIANTS, side))
        columns.append(tiles)
    # Each row as tall as its tallest tile, so that frames of different sizes stay in line.
    heights = [max(tile.shape[0] for tile in row) + 8 for row in zip(*columns, strict=True)]
    picture = np.concatenate(
        [
            np.concatenate(
                [_padded(tile, 8, height) for tile, height in zip(column, heights, strict=True)]
            )
            for column in columns
        ],
        axis=1,
    )
    Image.fromarray((picture * 255).round().astype(np.uint8), "RGB").save(path)


def _padded(image: np.ndarray, gap: int, height: int) -> np.ndarray:
    """The image with white below it up to `height` and `gap` to its right."""
    return np.pad(image, ((0, height - image.shape[0]), (0, gap), (0, 0)), constant_values=1.0)
