"""Fidelity, detail and crispness on eye sketches in another hand: artists' sketches are not the
training sketches, and variants must stay faithful and detailed on them too.

Every other figure is measured on engine.data.procedural's held-out sketches: the same hand as
the training data. These are engine.data.other_hand's: thick near-black marker strokes, a
different construction. The variants (engine defaults) must still be told apart by their
sketches (retrieval), keep the sketch's strokes about as well as sdedit's (recall), add
drawing beyond the strokes (detail added), and stay as crisp as the marker lines at the layer's
resolution (crispness). Images are (H, W, 3) float arrays in [0, 1] on white.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from PIL import Image

from engine.data.other_hand import other_hand_sketches
from engine.data.strokes import extract_strokes
from engine.framing import crop_to_model, frame_sketch
from engine.images import flatten_on_white
from engine.measure.comparison import fidelity
from engine.measure.crispness import LAYER_SIDE, sharpness
from engine.measure.evaluate import DEFAULT_LABEL, conditions, generate_condition
from engine.measure.metrics import detail, detail_added, strokes_of
from engine.measure.realism import resize
from engine.request import GenerateRequest

if TYPE_CHECKING:  # the pipeline imports TensorFlow; the measurements take it as given
    from engine.pipeline import Engine
    from engine.request import GenerateResult

SKETCHES = 8  # sketches in another hand; retrieval is among them
PICTURE = "other_hand.png"
PICTURE_VARIANTS = 3  # variants shown under each sketch
PICTURE_SKETCHES = 3  # sketches shown: at the layer's pixels, all 8 made a 3.4 MB picture
MASK = DEFAULT_LABEL  # the engine's default settings
SDEDIT = "sdedit from level 8"  # sdedit at its default strength, the recall's yardstick
# The floors the product holds itself to: retrieval, recall against sdedit's, detail added,
# crispness against the marker's own lines.
TARGETS = {"retrieval": 0.95, "recall_ratio": 0.9, "detail_added": 0.15, "crispness": 0.8}


class _Keeping:
    """An engine whose generate() also keeps its results: generate_condition shrinks the
    variants to the model's size, and crispness and the picture need them at the layer's."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.size = engine.size
        self.results: list[GenerateResult] = []

    def generate(self, request: GenerateRequest) -> GenerateResult:
        result = self.engine.generate(request)
        self.results.append(result)
        return result


def crispness_ratio(layers: list[np.ndarray], results: list[GenerateResult]) -> dict[str, float]:
    """Sharpness of the variants at the layer's pixels against the sketch layer's own lines,
    both flattened on white (as engine.measure.crispness.pipeline_table compares them)."""
    sketch_sharpness, ratios = [], []
    for layer, result in zip(layers, results, strict=True):
        own = sharpness(flatten_on_white(layer))
        sketch_sharpness.append(own)
        ratios += [sharpness(flatten_on_white(v.image)) / own for v in result.variants]
    return {
        "crispness": float(np.mean(ratios)),
        "sketch_sharpness": float(np.mean(sketch_sharpness)),
    }


def measure_other_hand(
    engine: Engine,
    sketch_count: int = SKETCHES,
    count: int = 8,
    side: int = LAYER_SIDE,
    picture: Path | None = None,
    report: Callable[[str], None] = print,
) -> dict:
    """Default (mask) and sdedit variants of `sketch_count` sketches in another hand on side px
    layers, `count` each (every sketch its own seeds, as in the evaluation): their figures,
    whether each meets its target, and the picture (when given a path)."""
    layers = other_hand_sketches(sketch_count, side)
    size = engine.size
    sketches = [crop_to_model(layer, frame_sketch(layer), size) for layer in layers]
    sketch_strokes = [strokes_of(extract_strokes(sketch)) for sketch in sketches]
    by_label = {condition.label: condition for condition in conditions(with_baseline=False)}
    keeping = _Keeping(engine)
    mask = generate_condition(cast("Engine", keeping), by_label[MASK], layers, count)
    sdedit = generate_condition(engine, by_label[SDEDIT], layers, count)
    mask_figures = fidelity(size, layers, list(mask))
    sdedit_figures = fidelity(size, layers, list(sdedit))
    figures: dict[str, Any] = {
        "sketches": sketch_count,
        "variants_per_sketch": count,
        "layer_side": side,
        "chance_retrieval": 1 / sketch_count,
        "retrieval": mask_figures["retrieval"],
        "sdedit_retrieval": sdedit_figures["retrieval"],
        "recall": mask_figures["recall"],
        "sdedit_recall": sdedit_figures["recall"],
        "recall_ratio": mask_figures["recall"] / max(sdedit_figures["recall"], 1e-9),
        "detail": mask_figures["detail"],
        "sketch_detail": float(np.mean([detail(s) for s in sketches])),
        "detail_added": detail_added(mask, sketch_strokes),
        "sdedit_detail_added": detail_added(sdedit, sketch_strokes),
        **crispness_ratio(layers, keeping.results),
    }
    figures["holds"] = {key: bool(figures[key] >= floor) for key, floor in TARGETS.items()}
    figures["targets"] = dict(TARGETS)
    if picture is not None:
        write_picture(layers, keeping.results, picture)
        figures["picture"] = Path(picture).name
    report(
        f"other hand: retrieval {figures['retrieval']:.2f} (sdedit "
        f"{figures['sdedit_retrieval']:.2f})  recall {figures['recall']:.2f} "
        f"({figures['recall_ratio']:.2f} of sdedit's)  detail added "
        f"{figures['detail_added']:.3f}  crispness {figures['crispness']:.2f}"
    )
    return figures


def write_picture(layers: list[np.ndarray], results: list[GenerateResult], path: Path) -> None:
    """The first PICTURE_SKETCHES sketches in the top row, PICTURE_VARIANTS of each one's
    variants below, all in the sketch's frame at the layer's pixels (100 % zoom)."""
    columns = []
    shown = list(zip(layers, results, strict=True))[:PICTURE_SKETCHES]
    for layer, result in shown:
        frame = frame_sketch(layer)
        tiles = [crop_to_model(layer, frame, frame.side)]
        tiles += [
            resize(flatten_on_white(v.patch), frame.side, Image.Resampling.LANCZOS)
            for v in result.variants
        ]
        columns.append([_padded(tile) for tile in tiles[: 1 + PICTURE_VARIANTS]])
    height = max(tile.shape[0] for column in columns for tile in column)
    rows = []
    for index in range(len(columns[0])):
        tiles = [_padded(column[index], height) for column in columns]
        rows.append(np.concatenate(tiles, axis=1))
    width = max(row.shape[1] for row in rows)
    picture = np.concatenate([_padded(row, None, width) for row in rows])
    Image.fromarray((np.clip(picture, 0, 1) * 255).round().astype(np.uint8), "RGB").save(path)


def _padded(image: np.ndarray, height: int | None = None, width: int | None = None) -> np.ndarray:
    """The image on white, 8 px gap below and right (or up to `height` and `width`)."""
    below = 8 if height is None else height - image.shape[0]
    right = 8 if width is None else width - image.shape[1]
    return np.pad(image, ((0, below), (0, right), (0, 0)), constant_values=1.0)
