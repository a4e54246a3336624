"""Models side by side on the figures every model change is judged by: realism and fidelity.

For ablations and training curves: each model folder's default variants of the same held-out
sketches, against the same held-out finished drawings, in one table.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from engine.data.strokes import extract_strokes
from engine.framing import crop_to_model, frame_sketch
from engine.measure.evaluate import Condition, generate_condition, held_out_eyes
from engine.measure.metrics import detail, recall_precision, retrieval_accuracy, strokes_of
from engine.measure.realism import REFERENCE_COUNT, measure_realism
from engine.request import DEFAULT_RADIUS


def compare_models(
    models: list[Path],
    out_dir: Path,
    sketch_count: int = 24,
    count: int = 8,
    side: int | None = None,
    reference_count: int = REFERENCE_COUNT,
    report: Callable[[str], None] = print,
) -> list[dict]:
    """Score each model folder (at least one); write comparison.json, comparison.md and one
    picture a model."""
    from engine.pipeline import Engine

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    held_out = held_out_eyes(sketch_count + 2 * reference_count, side)
    layers = held_out.layers[:sketch_count]
    default = Condition(f"mask r={DEFAULT_RADIUS}", "mask")
    rows = []
    for index, model in enumerate(models):
        engine = Engine.load(model)
        sketch_strokes = [
            strokes_of(extract_strokes(crop_to_model(layer, frame_sketch(layer), engine.size)))
            for layer in layers
        ]
        realism = measure_realism(
            engine, held_out, sketch_count, count, out_dir / f"{index:02d}-{model.name}.png"
        )
        outputs = generate_condition(engine, default, layers, count)
        strokes = [[strokes_of(extract_strokes(image)) for image in row] for row in outputs]
        recalls = [
            recall_precision(sketch, variant)[0]
            for sketch, variants in zip(sketch_strokes, strokes, strict=True)
            for variant in variants
        ]
        variants_row = realism["rows"][-1]
        row = {
            "model": str(model),
            "trained_steps": _trained_steps(model),
            "kid_x1000": variants_row["kid_x1000"],
            "saturation_p90": variants_row["saturation_p90"],
            "retrieval": retrieval_accuracy(strokes, sketch_strokes),
            "recall": float(np.mean(recalls)),
            "detail": float(np.mean([detail(image) for row in outputs for image in row])),
        }
        rows.append(row)
        report(
            f"{model}: KID×1000 {row['kid_x1000']:.2f}  saturation {row['saturation_p90']:.3f}  "
            f"retrieval {row['retrieval']:.2f}  recall {row['recall']:.2f}"
        )
    summary = {
        "sketches": sketch_count,
        "variants_per_sketch": count,
        "layer_side": side or engine.size,
        "real_saturation_p90": realism["real_saturation_p90"],
        "references": realism["rows"][:-1],  # the same for every model
        "models": rows,
    }
    (out_dir / "comparison.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out_dir / "comparison.md").write_text(_markdown(summary))
    return rows


def _trained_steps(model: Path) -> int | None:
    try:
        document = json.loads((Path(model) / "config.json").read_text())
    except (OSError, ValueError):
        return None
    return document.get("provenance", {}).get("trained_steps")


def _markdown(summary: dict) -> str:
    lines = [
        f"{summary['sketches']} held-out sketches x {summary['variants_per_sketch']} variants, "
        f"default settings; realism against held-out finished drawings (the drawings' own "
        f"saturation {summary['real_saturation_p90']:.3f}).",
        "",
        "| set | steps | KID×1000 ↓ | saturation ↑ | retrieval ↑ | recall ↑ | detail |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in summary["references"]:
        lines.append(
            f"| {row['set']} | | {row['kid_x1000']:.2f} | {row['saturation_p90']:.3f} | | | |"
        )
    for row in summary["models"]:
        lines.append(
            f"| {row['model']} | {row['trained_steps']} | {row['kid_x1000']:.2f} | "
            f"{row['saturation_p90']:.3f} | {row['retrieval']:.2f} | {row['recall']:.2f} | "
            f"{row['detail']:.3f} |"
        )
    return "\n".join(lines) + "\n"
