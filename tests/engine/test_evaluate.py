"""Evaluation metrics on known answers, and a whole (tiny) evaluation run."""

import json

import numpy as np

from engine.data.procedural import HELDOUT_SEED, make_eyes
from engine.data.strokes import extract_strokes
from engine.measure.evaluate import drawings_detail_added, framed_sketch, run_evaluation
from engine.measure.metrics import (
    chamfer,
    diversity,
    recall_precision,
    retrieval_accuracy,
    ssim,
    strokes_of,
)


def _ink(row: int, size: int = 32) -> np.ndarray:
    ink = np.zeros((size, size), bool)
    ink[row, 4:28] = True
    return ink


def _line(row: int, size: int = 32):
    return strokes_of(_ink(row, size))


def test_stroke_metrics_on_known_shapes():
    assert chamfer(_line(10), _line(10)) == 0.0
    assert chamfer(_line(10), _line(13)) == 3.0
    assert recall_precision(_line(10), _line(11)) == (1.0, 1.0)  # within the 2 px tolerance
    assert recall_precision(_line(10), _line(20)) == (0.0, 0.0)
    assert chamfer(_line(10), strokes_of(np.zeros((32, 32), bool))) == float("inf")


def test_retrieval_is_perfect_for_copies_and_chance_for_one_guess():
    sketches = [_line(5), _line(15), _line(25)]
    assert retrieval_accuracy([[s, s] for s in sketches], sketches) == 1.0
    assert retrieval_accuracy([[sketches[0]]] * 3, sketches) == 1 / 3


def test_diversity_and_ssim():
    rng = np.random.default_rng(0)
    image = rng.random((32, 32, 3))
    assert abs(ssim(image, image) - 1.0) < 1e-9
    same = diversity([image, image], _ink(10))
    assert same == {"l1_inside": 0.0, "l1_outside": 0.0, "one_minus_ssim": same["one_minus_ssim"]}
    assert abs(same["one_minus_ssim"]) < 1e-9
    assert diversity([image, 1 - image], _ink(10))["l1_outside"] > 0.2


def test_a_tiny_evaluation_writes_its_report(tiny_engine, tmp_path):
    results = run_evaluation(
        tiny_engine,
        tiny_engine,
        tmp_path,
        sketch_count=2,
        count=2,
        report=lambda line: None,
        reference_count=6,
    )
    labels = [row["label"] for row in results["rows"]]
    assert (
        labels[0] == "noise" and "mask r=11" in labels and labels[-1].startswith("inference-only")
    )
    assert set(results["claims"]) == {
        "1_noise_ignores_sketch",
        "2_sdedit_follows_but_varies_little",
        "3_mask_follows_nearly_as_well_and_varies_more",
        "4_detail_grows_with_radius",
    }
    assert 2 <= results["recommended_radius"] <= 11
    realism = {row["set"]: row for row in results["realism"]["rows"]}
    assert realism["real drawings in greyscale"]["saturation_p90"] == 0.0
    assert (
        realism["real drawings in greyscale"]["kid_x1000"]
        > realism["other real drawings (floor)"]["kid_x1000"]
    )
    assert "variants (default settings)" in realism
    for name in ("report.md", "results.json", "grid.png", "radius_sweep.png", "realism.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert json.loads((tmp_path / "results.json").read_text())["sketches"] == 2
    assert "| mask r=7 |" in (tmp_path / "report.md").read_text()
    assert results["realism"]["line_weight"] >= 0 and 0 <= results["realism"]["colour_spill"] <= 1
    assert "colour spill" in (tmp_path / "report.md").read_text()
    assert (
        0 <= results["realism"]["flat_fills"] <= 1
        and "flat fills" in (tmp_path / "report.md").read_text()
    )
    assert (
        0 <= results["realism"]["dark_fills"] <= 1
        and "dark fills" in (tmp_path / "report.md").read_text()
    )
    # The tiny model samples as the paper does (no sampling section): both paths are the same
    # variants of the same sketches, so every ratio is exactly 1.
    sampling = results["sampling"]
    assert sampling["paths"]["model's own"] == sampling["paths"]["16-step DDIM"]
    assert (sampling["kid_ratio"], sampling["diversity_ratio"]) == (1.0, 1.0)
    assert "| 16-step DDIM | ddim | 16 |" in (tmp_path / "report.md").read_text()
    # The same variants' figures on sketches in another hand, on 768 px layers.
    other = results["other_hand"]
    assert (other["sketches"], other["variants_per_sketch"], other["layer_side"]) == (2, 2, 768)
    assert "## Eye sketches in another hand" in (tmp_path / "report.md").read_text()
    assert "| crispness: sharpness / the sketch's lines |" in (tmp_path / "report.md").read_text()
    assert (tmp_path / other["picture"]).stat().st_size > 0
    # Detail added on the style's own sketches, with the style's finished drawings as yardstick.
    assert all(0.0 <= row["detail_added"] <= 1.0 for row in results["rows"])
    assert 0.0 <= results["drawings_detail_added"] < 1.0  # 0 at 32 px: all within 2 px of ink
    assert "the finished drawings add" in (tmp_path / "report.md").read_text()


def test_the_styles_detail_added_counts_the_drawing_beyond_its_sketch():
    drawings, sketches = make_eyes(6, HELDOUT_SEED, 64)
    strokes = [strokes_of(extract_strokes(framed_sketch(sketch, 64))) for sketch in sketches]
    # A sketch "finished" as itself adds nothing; the finished drawings add their fills.
    assert drawings_detail_added(sketches, sketches, strokes, 64) == 0.0
    assert drawings_detail_added(drawings, sketches, strokes, 64) > 0.03


def test_evaluation_at_a_layer_side_goes_through_both_stages(tiny_two_stage_dir, tmp_path):
    from engine.pipeline import Engine

    engine = Engine.load(tiny_two_stage_dir)
    results = run_evaluation(
        engine,
        None,
        tmp_path,
        sketch_count=2,
        count=2,
        report=lambda line: None,
        side=128,
        reference_count=4,
    )
    assert results["layer_side"] == 128 and len(results["claims"]) == 4
    crispness = results["crispness"]
    assert {row["side"] for row in crispness["truth"]} == {256, 512}
    methods = {(row["side"], row["method"]) for row in crispness["pipeline"]}
    assert (768, "two stages") in methods and (768, "blow-up of 64 px") in methods
    report = (tmp_path / "report.md").read_text()
    assert "| 512 | upsampler (from the true 64 px drawing) |" in report
    assert "| variants (default settings) |" in report
    assert (tmp_path / crispness["picture"]).stat().st_size > 0
    assert results["other_hand"]["layer_side"] == 128  # the sketches in another hand, too


def test_models_are_compared_on_the_same_held_out_sketches(tiny_model_dir, tmp_path):
    from engine.measure.comparison import compare_models

    rows = compare_models(
        [tiny_model_dir, tiny_model_dir],
        tmp_path,
        sketch_count=2,
        count=2,
        reference_count=4,
        report=lambda line: None,
    )
    assert rows[0] == {**rows[1], "model": rows[0]["model"]}  # the same model scores the same
    assert rows[0]["trained_steps"] == 0 and 0 <= rows[0]["retrieval"] <= 1
    summary = json.loads((tmp_path / "comparison.json").read_text())
    assert [row["set"] for row in summary["references"]][0] == "other real drawings (floor)"
    table = (tmp_path / "comparison.md").read_text()
    assert table.count(str(tiny_model_dir)) == 2 and "| real drawings in greyscale |" in table
    assert "| line weight | colour spill ↓ | flat fills ↑ | dark fills ↑ |" in table
    assert 0 <= rows[0]["flat_fills"] <= 1 and 0 <= summary["drawings_flat_fills"] <= 1
    assert 0 <= rows[0]["dark_fills"] <= 1
    assert rows[0]["line_weight"] >= 0 and 0 <= rows[0]["colour_spill"] <= 1
    assert len(list(tmp_path.glob("*.png"))) == 2


def test_compare_models_names_a_folder_that_is_no_model(tmp_path, capsys):
    from engine.cli import main

    assert main(["compare-models", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "is not a model folder" in capsys.readouterr().err
