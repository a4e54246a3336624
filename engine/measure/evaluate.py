"""The paper's experiments as numbers and pictures, on held-out procedural sketches."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from engine.data.procedural import HELDOUT_SEED, TRAIN_SEED, make_eyes
from engine.data.strokes import extract_strokes
from engine.framing import crop_to_model, frame_sketch
from engine.images import flatten_on_white, opaque
from engine.measure.crispness import LAYER_SIDE, as_layer, held_out_eye, measure_crispness
from engine.measure.few_step import compare_sampling
from engine.measure.metrics import (
    Strokes,
    chamfer,
    detail,
    detail_added,
    diversity,
    nearest_distances,
    recall_precision,
    retrieval_accuracy,
    strokes_of,
)
from engine.measure.realism import (
    REFERENCE_COUNT,
    HeldOut,
    framed_drawing,
    kid_x1000,
    measure_realism,
    sketch_seed,
    style_features,
)
from engine.request import (
    DEFAULT_RADIUS,
    DEFAULT_STRENGTH,
    PAPER_MASK_STRENGTH,
    GenerateRequest,
)

SWEEP_RADII = tuple(range(2, 12))  # the paper's sweep, radius 2 to 11
# The engine's defaults: mask mode at the default radius, from a little below pure noise.
DEFAULT_LABEL = f"default: mask r={DEFAULT_RADIUS} from strength {DEFAULT_STRENGTH['mask']}"
SDEDIT_STRENGTHS = (0.75, 0.5, 0.25)  # start levels 4, 8 and 12 of 16
KID_REFERENCE = 192  # held-out drawings the variants are compared with
MEMORISATION_REFERENCE = 4000  # training drawings each variant's nearest one is looked for in
GRID_SKETCHES = 3  # sketches shown in the picture grid
GRID_ROWS = (
    "noise",
    "sdedit from level 8",
    "mask r=2",
    f"mask r={DEFAULT_RADIUS}",
    "mask r=7",
    "mask r=11",
    DEFAULT_LABEL,
)

if TYPE_CHECKING:  # the pipeline imports TensorFlow; the measurements take it as given
    from engine.pipeline import Engine


@dataclass(frozen=True)
class Condition:
    """One row of the experiment: a mode and its setting, on the trained or the baseline model."""

    label: str
    mode: str
    radius: int = DEFAULT_RADIUS
    strength: float | None = None
    baseline: bool = False  # True: the ordinary (full-noise) model with the mask at sampling only


def conditions(with_baseline: bool) -> list[Condition]:
    """The paper's experiments, plus the inference-only mask when a baseline model is given."""
    rows = [Condition("noise", "noise")]
    rows += [
        Condition(f"sdedit from level {round(16 * (1 - s))}", "sdedit", strength=s)
        for s in SDEDIT_STRENGTHS
    ]
    # The paper's method: pure noise inside the mask (the engine's default starts a little lower).
    paper = PAPER_MASK_STRENGTH
    rows += [Condition(f"mask r={r}", "mask", radius=r, strength=paper) for r in SWEEP_RADII]
    if DEFAULT_RADIUS not in SWEEP_RADII:
        rows.append(Condition(f"mask r={DEFAULT_RADIUS}", "mask", DEFAULT_RADIUS, paper))
    rows.append(Condition(DEFAULT_LABEL, "mask"))
    if with_baseline:
        rows.append(
            Condition(
                f"inference-only mask r={DEFAULT_RADIUS}", "mask", DEFAULT_RADIUS, paper, True
            )
        )
    return rows


def framed_sketch(sketch: np.ndarray, size: int) -> np.ndarray:
    """The sketch as the model sees it: its framed ink box at size x size, float RGB in [0, 1]."""
    layer = opaque(sketch)
    return crop_to_model(layer, frame_sketch(layer), size)


def drawings_detail_added(
    drawings: np.ndarray, sketches: np.ndarray, sketch_strokes: list[Strokes], size: int
) -> float:
    """What the style itself adds beyond its sketches' strokes: detail_added of its finished
    drawings (uint8, one per sketch) in their sketches' frames, the yardstick of the variants'."""
    framed = [
        framed_drawing(drawing / 255.0, opaque(sketch), size)
        for drawing, sketch in zip(drawings, sketches, strict=True)
    ]
    return detail_added(np.stack(framed)[:, None], sketch_strokes)


def generate_condition(
    engine: Engine, condition: Condition, layers: list[np.ndarray], count: int
) -> np.ndarray:
    """Variants of every sketch layer (RGBA), within the sketch's frame and flattened on white.

    Comparing within the frame keeps the frame's position and size (which follow the sketch's
    box in every mode) from passing for fidelity. Variants made at a layer's resolution (both
    stages) are shrunk to the model's size, where the figures are defined. Returns
    (sketches, count, S, S, 3) in [0, 1].
    """
    outputs = []
    size = engine.size
    for index, layer in enumerate(layers):
        request = GenerateRequest(
            sketch=layer,
            mode=condition.mode,
            count=count,
            radius=condition.radius,
            strength=condition.strength,
            seed=sketch_seed(index, count),
        )
        result = engine.generate(request)
        patches = [
            Image.fromarray(variant.patch, "RGBA").resize((size, size), Image.Resampling.BOX)
            for variant in result.variants
        ]
        outputs.append([flatten_on_white(np.asarray(patch)) for patch in patches])
    return np.asarray(outputs, dtype=np.float32)


def score(
    outputs: np.ndarray,
    sketch_strokes: list[Strokes],
    reference_features: np.ndarray,
    training: np.ndarray,
) -> dict[str, float]:
    """All figures for one condition's outputs."""
    output_strokes = [
        [strokes_of(extract_strokes(image)) for image in variants] for variants in outputs
    ]
    chamfers: list[float] = []
    recalls: list[float] = []
    precisions: list[float] = []
    diversities: list[dict[str, float]] = []
    details: list[float] = []
    for sketch, variant_strokes, variants in zip(
        sketch_strokes, output_strokes, outputs, strict=True
    ):
        for strokes in variant_strokes:
            chamfers.append(chamfer(sketch, strokes))
            recall, precision = recall_precision(sketch, strokes)
            recalls.append(recall)
            precisions.append(precision)
        band = sketch.distance <= DEFAULT_RADIUS
        diversities.append(diversity(list(variants), band))
        details.extend(detail(image) for image in variants)
    flat = outputs.reshape((-1,) + outputs.shape[2:])
    finite = [c for c in chamfers if np.isfinite(c)]
    return {
        "chamfer_px": float(np.mean(finite)) if finite else float("inf"),
        "blank_share": 1 - len(finite) / len(chamfers),
        "recall": float(np.mean(recalls)),
        "precision": float(np.mean(precisions)),
        "retrieval": retrieval_accuracy(output_strokes, sketch_strokes),
        "l1_inside": float(np.mean([d["l1_inside"] for d in diversities])),
        "l1_outside": float(np.mean([d["l1_outside"] for d in diversities])),
        "one_minus_ssim": float(np.mean([d["one_minus_ssim"] for d in diversities])),
        "detail": float(np.mean(details)),
        "detail_added": detail_added(outputs, sketch_strokes),
        "kid_x1000": kid_x1000(reference_features, style_features(flat)),
        "nearest_train_rms": float(nearest_distances(flat, training).mean()),
    }


def run_evaluation(
    engine: Engine,
    baseline: Engine | None,
    out_dir: Path,
    sketch_count: int = 12,
    count: int = 8,
    report: Callable[[str], None] = print,
    side: int | None = None,
    reference_count: int = REFERENCE_COUNT,
) -> dict:
    """Run every condition, score it, and write report.md, results.json and the pictures.

    side: draw the held-out sketches on layers of this many pixels, so the variants go through
    both stages as an artist's do (None: at the model's size). With an upsampling stage the
    crispness tables and the 100 % zoom picture are measured too. reference_count: held-out
    finished drawings in the realism figure's reference set (and as many in its floor set).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    size = engine.size
    held_drawings, held_sketches = make_eyes(sketch_count + 2 * KID_REFERENCE, HELDOUT_SEED, size)
    sketches_u8 = held_sketches[:sketch_count]
    sketches = np.stack([framed_sketch(sketch, size) for sketch in sketches_u8])
    if side is None:
        layers = [opaque(sketch) for sketch in sketches_u8]
    else:
        layers = [as_layer(held_out_eye(index, side)[1]) for index in range(sketch_count)]
    real = held_drawings.astype(np.float32) / 255.0
    reference = real[sketch_count + KID_REFERENCE :]
    floor_set = real[sketch_count : sketch_count + sketch_count * count]
    training = _training_drawings(engine.config.train.data, size)

    # Computed once for all conditions: the sketches' strokes and the real drawings' features.
    sketch_strokes = [strokes_of(extract_strokes(sketch)) for sketch in sketches]
    reference_features = style_features(reference)
    results: dict[str, Any] = {
        "sketches": sketch_count,
        "layer_side": side or size,
        "variants_per_sketch": count,
        "chance_retrieval": 1 / sketch_count,
        "kid_floor_x1000": kid_x1000(reference_features, style_features(floor_set)),
        "real_nearest_train_rms": float(nearest_distances(floor_set, training).mean()),
        "sketch_detail": float(np.mean([detail(s) for s in sketches])),
        "drawings_detail_added": drawings_detail_added(
            held_drawings[:sketch_count], sketches_u8, sketch_strokes, size
        ),
        "rows": [],
    }
    score_outputs = partial(
        score,
        sketch_strokes=sketch_strokes,
        reference_features=reference_features,
        training=training,
    )
    results["rows"], examples = _score_conditions(
        engine, baseline, layers, count, score_outputs, report
    )
    results["claims"] = judge_claims(results)
    results["recommended_radius"] = recommend_radius(results)
    report("realism: variants against held-out finished drawings of the style")
    held_out = held_out_eyes(sketch_count + 2 * reference_count, side)
    results["realism"] = measure_realism(
        engine, held_out, sketch_count, count, out_dir / "realism.png"
    )
    report("sampling: the model's own path against the paper's 16-step DDIM")
    results["sampling"] = _compare_sampling(engine, results, score_outputs, layers, held_out, count)
    results.update(_at_layers(engine, sketch_count, count, side, out_dir, report))
    _write_report(results, sketches[:GRID_SKETCHES], examples, out_dir)
    return results


def _compare_sampling(
    engine: Engine,
    results: dict[str, Any],
    score_outputs: Callable[[np.ndarray], dict[str, float]],
    layers: list[np.ndarray],
    held_out: HeldOut,
    count: int,
) -> dict:
    """The model's own sampling path (its default row) against the paper's 16-step DDIM."""
    default = Condition(DEFAULT_LABEL, "mask")

    def score_paper_path(paper: Engine) -> dict[str, float]:
        return score_outputs(generate_condition(paper, default, layers, count))

    return compare_sampling(
        engine,
        row_of(results, default.label),
        score_paper_path,
        held_out,
        len(layers),
        count,
        results["realism"],
    )


def _write_report(
    results: dict[str, Any], sketches: np.ndarray, examples: dict[str, np.ndarray], out_dir: Path
) -> None:
    """results.json, report.md, the grid of `examples` beside `sketches`, and the radius sweep."""
    from engine.measure.report import write_grid, write_markdown, write_sweep_plot

    (out_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    write_markdown(results, out_dir / "report.md")
    write_grid(sketches, examples, out_dir / "grid.png")
    write_sweep_plot(results, out_dir / "radius_sweep.png")


def _at_layers(
    engine: Engine,
    sketch_count: int,
    count: int,
    side: int | None,
    out_dir: Path,
    report: Callable[[str], None],
) -> dict[str, dict]:
    """The figures judged at the layer's pixels, pictures in out_dir: the crispness tables (with
    an upsampling stage), and fidelity and detail on up to 8 eye sketches in another hand, on
    `side` px layers (None: the artist's 768 px)."""
    from engine.measure.other_hand import PICTURE, SKETCHES, measure_other_hand  # imports us

    results = {}
    if engine.upscaler is not None:
        results["crispness"] = measure_crispness(engine, out_dir, report)
    report("other hand: eye sketches drawn in another hand and style")
    sketches = min(sketch_count, SKETCHES)
    results["other_hand"] = measure_other_hand(
        engine, sketches, count, side or LAYER_SIDE, out_dir / PICTURE, report
    )
    return results


def _score_conditions(
    engine: Engine,
    baseline: Engine | None,
    layers: list[np.ndarray],
    count: int,
    score_outputs: Callable[[np.ndarray], dict[str, float]],
    report: Callable[[str], None],
) -> tuple[list[dict], dict[str, np.ndarray]]:
    """Every condition's row of figures, and the variants the grid shows of some of them."""
    rows, examples = [], {}
    for condition in conditions(baseline is not None):
        # conditions() has baseline rows only when there is a baseline
        model = baseline if condition.baseline and baseline is not None else engine
        outputs = generate_condition(model, condition, layers, count)
        figures = score_outputs(outputs)
        rows.append({**asdict(condition), **figures})
        if condition.label in GRID_ROWS or condition.baseline:
            examples[condition.label] = outputs[:GRID_SKETCHES]
        report(
            f"{condition.label:32s} retrieval {figures['retrieval']:.2f}  recall "
            f"{figures['recall']:.2f}  1-SSIM {figures['one_minus_ssim']:.3f}  "
            f"detail {figures['detail']:.3f}"
        )
    return rows, examples


def _training_drawings(data: str, size: int) -> np.ndarray:
    """The drawings of a model trained on `data` ("procedural:N"), where a variant's nearest one
    shows memorisation: (N, size, size, 3) float in [0, 1]."""
    train_count = int(data.split(":")[1]) if ":" in data else 0
    # At most MEMORISATION_REFERENCE of them: a model trained on 40,000 drawings would take
    # minutes to redraw them all and gigabytes to compare; the nearest of a subset is an upper
    # bound of the nearest of all.
    train_count = min(train_count or 1000, MEMORISATION_REFERENCE)
    return make_eyes(train_count, TRAIN_SEED, size)[0].astype(np.float32) / 255.0


def held_out_eyes(count: int, side: int | None) -> HeldOut:
    """The first `count` held-out eyes: drawings and sketch layers at `side` (None: 64 px as
    the training data is drawn)."""
    if side is None:
        drawings, sketches = make_eyes(count, HELDOUT_SEED)
        return HeldOut(list(drawings.astype(np.float32) / 255.0), [opaque(s) for s in sketches])
    eyes = [held_out_eye(index, side) for index in range(count)]
    return HeldOut([drawing for drawing, _ in eyes], [as_layer(sketch) for _, sketch in eyes])


def row_of(results: dict, label: str) -> dict:
    """The row of figures of the condition named `label`."""
    return next(row for row in results["rows"] if row["label"] == label)


def recommend_radius(results: dict) -> int:
    """The most varied radius that keeps sdedit's retrieval (level 8, within 0.01): the default."""
    floor = row_of(results, "sdedit from level 8")["retrieval"] - 0.01
    sweep = [row_of(results, f"mask r={r}") for r in SWEEP_RADII]
    faithful = [row for row in sweep if row["retrieval"] >= floor] or sweep[:1]
    return max(faithful, key=lambda row: row["one_minus_ssim"])["radius"]


def judge_claims(results: dict) -> dict[str, dict]:
    """The paper's four claims, each with the figures it rests on and whether it holds here."""
    chance = results["chance_retrieval"]
    noise = row_of(results, "noise")
    sdedit = row_of(results, "sdedit from level 8")
    mask = row_of(results, f"mask r={DEFAULT_RADIUS}")
    sweep = [row_of(results, f"mask r={r}") for r in SWEEP_RADII]
    details = [row["detail"] for row in sweep]
    rank_correlation = float(
        np.corrcoef(np.argsort(np.argsort(details)), np.arange(len(details)))[0, 1]
    )
    sdedit_diversity = sdedit["one_minus_ssim"]
    fidelity_ratio = mask["retrieval"] / max(sdedit["retrieval"], 1e-9)
    diversity_ratio = mask["one_minus_ssim"] / max(sdedit_diversity, 1e-9)
    return {
        "1_noise_ignores_sketch": {
            "holds": noise["retrieval"] <= 2 * chance + 0.05,
            "figures": f"retrieval {noise['retrieval']:.2f} vs chance {chance:.2f}",
        },
        "2_sdedit_follows_but_varies_little": {
            "holds": sdedit["retrieval"] >= 0.8
            and sdedit["one_minus_ssim"] < mask["one_minus_ssim"],
            "figures": f"retrieval {sdedit['retrieval']:.2f}, 1-SSIM {sdedit_diversity:.3f}",
        },
        "3_mask_follows_nearly_as_well_and_varies_more": {
            "holds": mask["retrieval"] >= 0.8 * sdedit["retrieval"]
            and mask["one_minus_ssim"] >= 1.5 * sdedit["one_minus_ssim"]
            and mask["detail"] > results["sketch_detail"],
            "figures": (
                f"retrieval {mask['retrieval']:.2f} ({fidelity_ratio:.2f} of sdedit), "
                f"1-SSIM {mask['one_minus_ssim']:.3f} ({diversity_ratio:.1f}x sdedit), "
                f"detail {mask['detail']:.3f} vs sketch {results['sketch_detail']:.3f}"
            ),
        },
        "4_detail_grows_with_radius": {
            "holds": rank_correlation > 0.5,
            "figures": f"rank correlation of detail with radius {rank_correlation:.2f}",
        },
    }
