"""Teaching measured: a quick training on 50 procedural flowers, scored before and after.

The figures are evaluate's (retrieval, stroke recall, diversity; engine.measure.evaluate.score) on
held-out flower sketches, and KID on colour and edge features (engine.measure.realism) as the
colour/style distance of the variants to held-out flower drawings.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from engine.data.flowers import HELDOUT_SEED, TRAIN_SEED, make_flower, make_flowers
from engine.data.strokes import extract_strokes
from engine.images import opaque, write_png
from engine.measure.crispness import as_layer
from engine.measure.evaluate import Condition, framed_sketch, generate_condition, score
from engine.measure.metrics import strokes_of
from engine.measure.realism import style_features
from engine.request import DEFAULT_RADIUS

DRAWING_SIDE = 512  # the training drawings' side: the upsampler learns at an artist's resolution
LAYER_SIDE = 256  # held-out sketches are drawn on layers this wide, so both stages draw
REFERENCE = 96  # held-out drawings the variants' colours and edges are compared with
GRID_SKETCHES = 3


def write_drawings(folder: Path, count: int, seed: int = TRAIN_SEED) -> Path:
    """`count` flower drawings as PNG files, as an artist's folder of finished drawings."""
    for index in range(count):
        drawing = make_flower(np.random.default_rng([seed, index]), DRAWING_SIDE).drawing
        write_png(opaque(drawing), Path(folder) / f"{index:03d}.png")
    return Path(folder)


def score_on_flowers(engine, sketch_count: int, count: int, training: np.ndarray) -> tuple:
    """Figures of the default-radius mask variants of held-out flower sketches, and the variants."""
    size = engine.size
    drawings, sketches = make_flowers(sketch_count + REFERENCE, HELDOUT_SEED, size)
    layers = [
        as_layer(make_flower(np.random.default_rng([HELDOUT_SEED, i]), LAYER_SIDE).sketch / 255)
        for i in range(sketch_count)
    ]
    framed = np.stack([framed_sketch(sketch, size) for sketch in sketches[:sketch_count]])
    sketch_strokes = [strokes_of(extract_strokes(sketch)) for sketch in framed]
    reference = style_features(drawings[sketch_count:].astype(np.float32) / 255)
    condition = Condition(f"mask r={DEFAULT_RADIUS}", "mask")
    outputs = generate_condition(engine, condition, layers, count)
    return score(outputs, sketch_strokes, reference, training), outputs, framed


def measure_teaching(
    out_dir: Path,
    picture: Path,
    from_dir: Path,
    drawings: int = 50,
    steps: int = 300,
    sketch_count: int = 12,
    count: int = 8,
    report: Callable[[str], None] = print,
) -> dict:
    """Train on `drawings` flowers the way the engine server does, and score before and after."""
    from engine.measure.report import write_grid
    from engine.pipeline import Engine
    from engine.training import TrainOptions, train_model

    out_dir = Path(out_dir)
    data_dir = write_drawings(out_dir / "drawings", drawings)
    model_dir = out_dir / "model"
    options = TrainOptions(data_dir, model_dir, from_dir, steps=steps, upscaler_steps=steps)
    started = time.perf_counter()
    train_model(options, report=report)
    minutes = (time.perf_counter() - started) / 60
    report(f"training: {drawings} drawings, {steps} steps per stage, {minutes:.1f} min")

    before_engine, after_engine = Engine.load(from_dir), Engine.load(model_dir)
    training = make_flowers(drawings, TRAIN_SEED, before_engine.size)[0].astype(np.float32) / 255
    before, before_outputs, framed = score_on_flowers(before_engine, sketch_count, count, training)
    after, after_outputs, _ = score_on_flowers(after_engine, sketch_count, count, training)
    results = {
        "drawings": drawings,
        "steps_per_stage": steps,
        "training_minutes": round(minutes, 2),
        "sketches": sketch_count,
        "variants_per_sketch": count,
        "chance_retrieval": 1 / sketch_count,
        "before": before,
        "after": after,
    }
    for label, figures in (("before", before), ("after", after)):
        report(
            f"{label:7s} retrieval {figures['retrieval']:.2f}  recall {figures['recall']:.2f}  "
            f"1-SSIM {figures['one_minus_ssim']:.3f}  KID x1000 {figures['kid_x1000']:.1f}"
        )
    (out_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    examples = {
        "shipped model": before_outputs[:GRID_SKETCHES, :4],
        f"after {steps} steps": after_outputs[:GRID_SKETCHES, :4],
    }
    picture.parent.mkdir(parents=True, exist_ok=True)
    write_grid(framed[:GRID_SKETCHES], examples, picture)
    Image.open(picture).load()  # written whole
    return results
