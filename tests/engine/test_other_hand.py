"""Eye sketches in another hand: the generator, and the figures measured on them."""

from __future__ import annotations

import numpy as np
import pytest

from engine.data.other_hand import (
    OTHER_HAND_SEED,
    make_other_hand_sketch,
    other_hand_sketches,
)
from engine.data.procedural import HELDOUT_SEED, TRAIN_SEED, make_eye
from engine.framing import crop_on_white, frame_sketch
from engine.images import opaque
from engine.measure.crispness import PENCIL_PER_PIXEL
from engine.measure.metrics import detail_added
from engine.measure.other_hand import TARGETS, measure_other_hand
from engine.request import GenerateRequest, GenerateResult, Variant

SIDE = 256


def _darkness(rgba: np.ndarray) -> np.ndarray:
    """How dark each pixel of an RGBA layer is on white, 0..1."""
    rgb = rgba[..., :3].astype(np.float32) / 255
    return rgba[..., 3].astype(np.float32) / 255 * (1 - rgb.min(axis=-1))


def _stroke_width(rgba: np.ndarray) -> float:
    """Median length of the ink's runs along rows and columns: a line's width where it is
    crossed (fills add few runs, lines many)."""
    dark = _darkness(rgba)
    ink = dark > 0.5 * dark.max()
    runs = []
    for mask in (ink, ink.T):
        edges = np.diff(np.pad(mask, ((0, 0), (1, 1))).astype(np.int8), axis=1)
        starts, ends = np.nonzero(edges == 1), np.nonzero(edges == -1)
        runs.append(ends[1] - starts[1])
    return float(np.median(np.concatenate(runs)))


def test_the_seed_is_one_no_other_stream_uses():
    assert OTHER_HAND_SEED not in (TRAIN_SEED, HELDOUT_SEED, 31, 32)


def test_sketches_are_dark_ink_on_transparency_inside_the_layer():
    for layer in other_hand_sketches(4, SIDE):
        assert layer.dtype == np.uint8 and layer.shape == (SIDE, SIDE, 4)
        alpha = layer[..., 3]
        solid = alpha > 200
        assert solid.mean() > 0.01  # there is ink...
        assert layer[..., :3][solid].max() < 80  # ...near-black
        assert alpha[0].max() == alpha[-1].max() == alpha[:, 0].max() == alpha[:, -1].max() == 0
        columns = np.nonzero(alpha.max(axis=0) > 60)[0]
        assert 0.45 * SIDE < columns[-1] - columns[0] < 0.95 * SIDE  # the eye spans 0.55-0.85


def test_strokes_are_thicker_than_the_projects_sketches_at_the_same_side():
    for side in (64, 512):
        mine = np.mean([_stroke_width(layer) for layer in other_hand_sketches(3, side)])
        pencil = side * PENCIL_PER_PIXEL if side > 64 else 1.0  # as the project draws them
        theirs = np.mean(
            [
                _stroke_width(opaque(make_eye(np.random.default_rng([9, i]), side, pencil).sketch))
                for i in range(3)
            ]
        )
        assert mine >= 1.8 * theirs, (side, mine, theirs)


def test_sketches_are_the_same_for_a_seed_and_differ_between_seeds():
    first = make_other_hand_sketch(np.random.default_rng([OTHER_HAND_SEED, 1]), 96)
    again = make_other_hand_sketch(np.random.default_rng([OTHER_HAND_SEED, 1]), 96)
    assert np.array_equal(first, again)
    assert np.array_equal(other_hand_sketches(2, 96)[1], first)  # the same whatever the count
    other = make_other_hand_sketch(np.random.default_rng([OTHER_HAND_SEED, 2]), 96)
    assert np.abs(first.astype(int) - other.astype(int)).mean() > 1


class _Tracer:
    """An engine without a model: every variant is the framed ink of `source(sketch)`,
    traced exactly. Following the sketch, it is perfectly faithful and adds nothing."""

    size = 32

    def __init__(self, source=None) -> None:
        self.source = source or (lambda sketch: sketch)

    def generate(self, request: GenerateRequest) -> GenerateResult:
        sketch = self.source(request.sketch)
        frame = frame_sketch(sketch)
        patch = opaque(crop_on_white(sketch, frame, frame.side))
        height, width = sketch.shape[:2]
        return GenerateResult(
            [
                Variant(request.seed + i, patch, frame.left, frame.top, width, height)
                for i in range(request.count)
            ]
        )


def test_a_tracing_engine_is_faithful_and_adds_no_detail(tmp_path):
    figures = measure_other_hand(
        _Tracer(), 3, 2, side=128, picture=tmp_path / "p.png", report=lambda line: None
    )
    assert figures["retrieval"] == figures["sdedit_retrieval"] == 1.0
    assert figures["recall"] > 0.99 and figures["recall_ratio"] == pytest.approx(1, abs=0.01)
    assert figures["detail_added"] < 0.02
    assert figures["crispness"] == pytest.approx(1.0, abs=0.05)
    assert figures["holds"] == {
        "retrieval": True,
        "recall_ratio": True,
        "detail_added": False,
        "crispness": True,
    }
    assert (tmp_path / "p.png").stat().st_size > 0 and figures["picture"] == "p.png"


def test_an_engine_that_ignores_the_sketch_is_retrieved_by_chance():
    fixed = other_hand_sketches(1, 128)[0]
    figures = measure_other_hand(
        _Tracer(lambda sketch: fixed), 4, 2, side=128, report=lambda line: None
    )
    # Every variant is sketch 0's: only sketch 0's own are retrieved right.
    assert figures["retrieval"] == figures["chance_retrieval"] == 0.25
    assert not figures["holds"]["retrieval"] and "picture" not in figures


def test_detail_added_counts_only_paint_away_from_the_sketch():
    from engine.measure.metrics import strokes_of

    ink = np.zeros((16, 16), bool)
    ink[8, 2:14] = True
    strokes = [strokes_of(ink)]
    blank = np.ones((1, 2, 16, 16, 3), np.float32)
    assert detail_added(blank, strokes) == 0.0
    traced = blank.copy()
    traced[0, :, 8, 2:14] = 0.0
    assert detail_added(traced, strokes) == 0.0
    traced[0, :, 0:4, :] = 0.5  # a band of paint 4 or more pixels from the line
    assert detail_added(traced, strokes) == pytest.approx(64 / (64 + 12))


def test_the_tiny_model_is_measured_with_every_figure_in_range(tiny_engine, tmp_path):
    figures = measure_other_hand(
        tiny_engine, 2, 2, side=96, picture=tmp_path / "other.png", report=lambda line: None
    )
    for key in ("retrieval", "sdedit_retrieval", "recall", "sdedit_recall", "detail_added"):
        assert 0.0 <= figures[key] <= 1.0, key
    assert figures["recall_ratio"] >= 0 and figures["crispness"] > 0
    assert set(figures["holds"]) == set(TARGETS) == set(figures["targets"])
    assert figures["layer_side"] == 96 and figures["chance_retrieval"] == 0.5
    assert (tmp_path / "other.png").stat().st_size > 0
