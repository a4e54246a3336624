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
from engine.measure.evaluate import held_out_eyes
from engine.measure.metrics import detail, recall_precision, retrieval_accuracy, strokes_of
from engine.measure.realism import (
    REFERENCE_COUNT,
    judged_variants,
    realism_table,
    reference_sets,
    resize,
    saturation_p90,
    write_picture,
)


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
    picture a model. Each model makes its variants once: realism is measured on them in their
    frames, fidelity on the same variants shrunk to the model's size."""
    from engine.pipeline import Engine

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    held_out = held_out_eyes(sketch_count + 2 * reference_count, side)
    layers = held_out.layers[:sketch_count]
    rows = []
    references_by_size: dict[int, tuple[np.ndarray, dict[str, np.ndarray]]] = {}
    for index, model in enumerate(models):
        engine = Engine.load(model)
        # Framed once for all the models of one size (the blur reference depends on it).
        if engine.size not in references_by_size:
            references_by_size[engine.size] = reference_sets(held_out, sketch_count, engine.size)
        real, references = references_by_size[engine.size]
        variants, defects = judged_variants(engine, held_out, sketch_count, count)
        (variants_row,) = realism_table(real, {"variants": np.concatenate(variants)})
        row = {
            "model": str(model),
            "trained_steps": _trained_steps(model),
            "kid_x1000": variants_row["kid_x1000"],
            "saturation_p90": variants_row["saturation_p90"],
            **defects,
            **fidelity(engine.size, layers, variants),
        }
        rows.append(row)
        write_picture(engine, held_out, out_dir / f"{index:02d}-{model.name}.png")
        report(
            f"{model}: KID×1000 {row['kid_x1000']:.2f}  saturation {row['saturation_p90']:.3f}  "
            f"retrieval {row['retrieval']:.2f}  recall {row['recall']:.2f}  line weight "
            f"{row['line_weight']:.2f}  colour spill {row['colour_spill']:.4f}  flat fills "
            f"{row['flat_fills']:.2f} (drawings {row['drawings_flat_fills']:.2f})  dark fills "
            f"{row['dark_fills']:.2f}"
        )
    summary = {
        "sketches": sketch_count,
        "variants_per_sketch": count,
        "layer_side": side or engine.size,
        "real_saturation_p90": saturation_p90(real),
        # Every model is judged against the same drawings, so their flat share is one figure.
        "drawings_flat_fills": rows[0]["drawings_flat_fills"],
        "references": realism_table(real, references),  # the same for every model
        "models": rows,
    }
    (out_dir / "comparison.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out_dir / "comparison.md").write_text(_markdown(summary))
    return rows


def fidelity(size: int, layers: list[np.ndarray], variants: list[np.ndarray]) -> dict[str, float]:
    """Retrieval, stroke recall and detail of each layer's variants (in its frame, on white),
    measured at the model's size as the evaluation does."""
    sketches = [
        strokes_of(extract_strokes(crop_to_model(layer, frame_sketch(layer), size)))
        for layer in layers
    ]
    small = [[resize(image, size) for image in row] for row in variants]
    strokes = [[strokes_of(extract_strokes(image)) for image in row] for row in small]
    recalls = [
        recall_precision(sketch, variant)[0]
        for sketch, row in zip(sketches, strokes, strict=True)
        for variant in row
    ]
    return {
        "retrieval": retrieval_accuracy(strokes, sketches),
        "recall": float(np.mean(recalls)),
        "detail": float(np.mean([detail(image) for row in small for image in row])),
    }


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
        "Line weight: the variants' dark pixels over their drawings' (1: as heavy as drawn). "
        "Colour spill: chroma painted on the drawing's white paper near its paint. Flat fills: "
        "share of the fill pixels whose colour is flat (the drawings: "
        f"{summary['drawings_flat_fills']:.2f}). Dark fills: share of the drawing's dark "
        "pixels off the sketch's lines (solid pupils, lid bands) that the variants paint dark.",
        "",
        "| set | steps | KID×1000 ↓ | saturation ↑ | retrieval ↑ | recall ↑ | detail | "
        "line weight | colour spill ↓ | flat fills ↑ | dark fills ↑ |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in summary["references"]:
        lines.append(
            f"| {row['set']} | | {row['kid_x1000']:.2f} | {row['saturation_p90']:.3f} "
            "| | | | | | | |"
        )
    for row in summary["models"]:
        lines.append(
            f"| {row['model']} | {row['trained_steps']} | {row['kid_x1000']:.2f} | "
            f"{row['saturation_p90']:.3f} | {row['retrieval']:.2f} | {row['recall']:.2f} | "
            f"{row['detail']:.3f} | {row['line_weight']:.2f} | {row['colour_spill']:.4f} | "
            f"{row['flat_fills']:.2f} | {row['dark_fills']:.2f} |"
        )
    return "\n".join(lines) + "\n"
