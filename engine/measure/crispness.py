"""Crispness of variants at the layer's resolution: the upsampling stage against a blow-up.

Held-out procedural eyes are rendered at the output side, so every figure has a ground truth:
the same drawing drawn at that resolution. Images are (H, W, 3) float arrays in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from engine.data.construction import with_construction
from engine.data.procedural import HELDOUT_SEED, make_eye
from engine.images import LUMA_WEIGHTS, flatten_on_white
from engine.request import GenerateRequest
from engine.upscaler.sizing import upscaled_side

if TYPE_CHECKING:  # the pipeline imports TensorFlow; the measurements take it as given
    from engine.pipeline import Engine

SIDES = (256, 512)  # output sides of the ground-truth table
LAYER_SIDE = 768  # the artist's case: an eye about 600 px wide on a 768 px layer
EDGE_THRESHOLD = 0.2  # gradient magnitude (luminance per pixel, Sobel / 4) that makes an edge
SHARPNESS_FLOOR = 0.05  # gradients below this are flat paper, not an edge
# Pencil width on a layer: a few pixels at 512-800 px, like the training sketches.
PENCIL_PER_PIXEL = 2.5 / 768


def _luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array(LUMA_WEIGHTS, np.float32)


def gradient_magnitude(rgb: np.ndarray) -> np.ndarray:
    """Sobel gradient magnitude of the luminance, in luminance per pixel: (H, W)."""
    y = np.pad(_luminance(rgb), 1, mode="edge")
    gx = (
        y[:-2, 2:] + 2 * y[1:-1, 2:] + y[2:, 2:] - y[:-2, :-2] - 2 * y[1:-1, :-2] - y[2:, :-2]
    ) / 8
    gy = (
        y[2:, :-2] + 2 * y[2:, 1:-1] + y[2:, 2:] - y[:-2, :-2] - 2 * y[:-2, 1:-1] - y[:-2, 2:]
    ) / 8
    return np.hypot(gx, gy)


def sharpness(rgb: np.ndarray) -> float:
    """95th percentile of the gradient at edges: how steep the image's lines are."""
    gradient = gradient_magnitude(rgb)
    edges = gradient[gradient > SHARPNESS_FLOOR]
    return float(np.percentile(edges, 95)) if edges.size else 0.0


def psnr(image: np.ndarray, truth: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB, for images in [0, 1]."""
    mse = float(np.mean((image - truth) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


def _grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    grown = mask.copy()
    for _ in range(pixels):
        padded = np.pad(grown, 1)
        grown = (
            padded[1:-1, 1:-1]
            | padded[:-2, 1:-1]
            | padded[2:, 1:-1]
            | padded[1:-1, :-2]
            | padded[1:-1, 2:]
            | padded[:-2, :-2]
            | padded[:-2, 2:]
            | padded[2:, :-2]
            | padded[2:, 2:]
        )
    return grown


def edge_f1(image: np.ndarray, truth: np.ndarray, tolerance: int = 1) -> float:
    """F1 of the image's edge pixels against the truth's, each matched within `tolerance` px."""
    found = gradient_magnitude(image) > EDGE_THRESHOLD
    wanted = gradient_magnitude(truth) > EDGE_THRESHOLD
    if not found.any() or not wanted.any():
        return 0.0
    precision = float((found & _grow(wanted, tolerance)).sum() / found.sum())
    recall = float((wanted & _grow(found, tolerance)).sum() / wanted.sum())
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def fine_detail(rgb: np.ndarray, frame_side: int, model_size: int = 64) -> float:
    """RMS of what a model-size frame cannot hold: the image minus its own shrink-and-blow-up."""
    side = rgb.shape[0]
    small = max(1, round(side * model_size / frame_side))
    image = Image.fromarray((np.clip(rgb, 0, 1) * 255).round().astype(np.uint8))
    coarse = image.resize((small, small), Image.Resampling.BOX).resize(
        (side, side), Image.Resampling.BICUBIC
    )
    return float(np.sqrt(np.mean((rgb - np.asarray(coarse, np.float32) / 255) ** 2)))


def _resize(rgb: np.ndarray, side: int, method: Image.Resampling) -> np.ndarray:
    image = Image.fromarray((np.clip(rgb, 0, 1) * 255).round().astype(np.uint8))
    return np.asarray(image.resize((side, side), method), np.float32) / 255


def held_out_eye(index: int, side: int) -> tuple[np.ndarray, np.ndarray]:
    """A held-out eye drawn at `side`: (drawing, sketch) as float RGB in [0, 1] on white."""
    sample = make_eye(np.random.default_rng([HELDOUT_SEED, index]), side, side * PENCIL_PER_PIXEL)
    return sample.drawing.astype(np.float32) / 255, sample.sketch.astype(np.float32) / 255


def as_layer(sketch: np.ndarray) -> np.ndarray:
    """A sketch on white as a Krita layer: dark strokes on transparency, (H, W, 4) uint8."""
    darkness = np.round((1 - sketch.min(axis=-1)) * 255).astype(np.uint8)
    layer = np.zeros(sketch.shape[:2] + (4,), np.uint8)
    layer[..., 3] = darkness
    return layer


def stage_on_truth(engine: Engine, low: np.ndarray, sketch: np.ndarray, side: int) -> np.ndarray:
    """The upsampling stage fed a 64 px drawing and its sketch, at `side` (as generate runs it)."""
    work_side = upscaled_side(side, engine.size, engine.upscaler[1]) or side
    sketch_u8 = (_resize(sketch, work_side, Image.Resampling.BICUBIC) * 255).round()
    out = engine.upscale_images(low[None] * 2 - 1, sketch_u8.astype(np.uint8))[0]
    out = (np.clip(out, -1, 1) + 1) / 2
    return out if work_side == side else _resize(out, side, Image.Resampling.LANCZOS)


def truth_table(engine: Engine, count: int = 12, sides: tuple[int, ...] = SIDES) -> list[dict]:
    """(a) bicubic blow-up and (b) the stage, both from the true 64 px drawing, vs the truth."""
    rows = []
    for side in sides:
        figures: dict[str, list[tuple[float, float, float]]] = {"blow-up": [], "upsampler": []}
        for index in range(count):
            drawing, sketch = held_out_eye(index, side)
            low = _resize(drawing, engine.size, Image.Resampling.BOX)
            outputs = {
                "blow-up": _resize(low, side, Image.Resampling.BICUBIC),
                "upsampler": stage_on_truth(engine, low, sketch, side),
            }
            for name, image in outputs.items():
                figures[name].append(
                    (
                        psnr(image, drawing),
                        edge_f1(image, drawing),
                        sharpness(image) / sharpness(drawing),
                    )
                )
        for name, values in figures.items():
            psnrs, f1s, ratios = zip(*values, strict=True)
            rows.append(
                {
                    "side": side,
                    "method": name,
                    "psnr_db": float(np.mean(psnrs)),
                    "edge_f1": float(np.mean(f1s)),
                    "sharpness_vs_truth": float(np.mean(ratios)),
                }
            )
    return rows


def pipeline_table(
    engine: Engine, count: int = 6, variants: int = 4, sides: tuple[int, ...] = (*SIDES, LAYER_SIDE)
) -> list[dict]:
    """(c) the whole two-stage pipeline against the one-stage blow-up, on sketch layers.

    Variants differ from any drawing, so they are compared by sharpness: with the held-out
    drawing at that side, and with the sketch's own pencil lines.
    """
    rows = []
    for side in sides:
        for upscale in (False, True):
            ratios, pencil, detail, truth_detail = [], [], [], []
            for index in range(count):
                drawing, sketch = held_out_eye(index, side)
                request = GenerateRequest(
                    sketch=as_layer(sketch), count=variants, seed=index, upscale=upscale
                )
                result = engine.generate(request)
                frame_side = result.variants[0].patch.shape[0]
                for variant in result.variants:
                    image = flatten_on_white(variant.image)
                    ratios.append(sharpness(image) / sharpness(drawing))
                    pencil.append(sharpness(image) / sharpness(sketch))
                    detail.append(fine_detail(image, frame_side, engine.size))
                truth_detail.append(fine_detail(drawing, frame_side, engine.size))
            rows.append(
                {
                    "side": side,
                    "method": "two stages" if upscale else "blow-up of 64 px",
                    "sharpness_vs_truth": float(np.mean(ratios)),
                    "sharpness_vs_sketch": float(np.mean(pencil)),
                    "fine_detail": float(np.mean(detail)),
                    "truth_fine_detail": float(np.mean(truth_detail)),
                }
            )
    return rows


def construction_ink(engine: Engine, count: int = 12, side: int = LAYER_SIDE) -> dict[str, float]:
    """How far the stage follows the pencil rather than the picture: fed the true 64 px
    drawing, with construction guides added to the sketch that the drawing lacks.

    The figure is how much darker than the drawing the output is on the guides' pixels (away
    from the drawing's own edges), in luminance: with the guides in the sketch, and without
    them (the stage's ordinary error on the same pixels).
    """
    darkening: dict[str, list[float]] = {"with_guides": [], "without_guides": []}
    for index in range(count):
        drawing, sketch = held_out_eye(index, side)
        pencil = (sketch * 255).round().astype(np.uint8)
        rng = np.random.default_rng([HELDOUT_SEED, index, 3])
        marked = with_construction(pencil, rng, side * PENCIL_PER_PIXEL).astype(np.float32) / 255
        edges = _grow(gradient_magnitude(drawing) > EDGE_THRESHOLD, 3)
        guides = (_luminance(sketch) - _luminance(marked) > 0.25) & ~edges
        low = _resize(drawing, engine.size, Image.Resampling.BOX)
        for name, guide in (("with_guides", marked), ("without_guides", sketch)):
            darker = _luminance(drawing) - _luminance(stage_on_truth(engine, low, guide, side))
            darkening[name].append(float(np.clip(darker, 0, None)[guides].mean()))
    return {name: float(np.mean(values)) for name, values in darkening.items()}


def zoom_picture(
    engine: Engine, side: int = LAYER_SIDE, index: int = 0, crop: int = 360
) -> Image.Image:
    """One variant at 100 % zoom: the sketch, the blow-up and the two-stage result side by side."""
    _, sketch = held_out_eye(index, side)
    layer = as_layer(sketch)
    panels = [sketch]
    for upscale in (False, True):
        request = GenerateRequest(sketch=layer, count=1, seed=index, upscale=upscale)
        panels.append(flatten_on_white(engine.generate(request).variants[0].image))
    ys, xs = np.nonzero(layer[..., 3] > 60)
    top = int(np.clip(ys.mean() - crop / 2, 0, side - crop))
    left = int(np.clip(xs.mean() - crop / 2, 0, side - crop))
    tiles = [panel[top : top + crop, left : left + crop] for panel in panels]
    gap = np.ones((crop, 8, 3), np.float32)
    row = np.concatenate([tiles[0], gap, tiles[1], gap, tiles[2]], axis=1)
    return Image.fromarray((np.clip(row, 0, 1) * 255).round().astype(np.uint8))


ZOOM_PICTURE = "upscale_zoom.png"


def measure_crispness(engine: Engine, out_dir: Path, report: Callable[[str], None] = print) -> dict:
    """Both tables and the zoom picture (written to out_dir), for an engine with the stage."""
    truth = truth_table(engine)
    pipeline = pipeline_table(engine)
    guides = construction_ink(engine)
    for row in truth:
        report(
            f"crispness {row['side']} px {row['method']:10s} PSNR {row['psnr_db']:.1f} dB  "
            f"edge F1 {row['edge_f1']:.2f}  sharpness/truth {row['sharpness_vs_truth']:.2f}"
        )
    for row in pipeline:
        report(
            f"crispness {row['side']} px {row['method']:16s} sharpness/sketch "
            f"{row['sharpness_vs_sketch']:.2f}  fine detail {row['fine_detail']:.3f} "
            f"(drawing {row['truth_fine_detail']:.3f})"
        )
    report(
        f"crispness {LAYER_SIDE} px construction guides the drawing lacks: painted "
        f"{guides['with_guides']:.3f} darker than the drawing ({guides['without_guides']:.3f} "
        "without them in the sketch)"
    )
    zoom_picture(engine).save(Path(out_dir) / ZOOM_PICTURE)
    return {
        "truth": truth,
        "pipeline": pipeline,
        "construction_ink": guides,
        "picture": ZOOM_PICTURE,
    }
