"""The second procedural subject: flowers in a style unlike the eyes', with rough sketches."""

from __future__ import annotations

import numpy as np
import pytest

from engine.data.flowers import HELDOUT_SEED, TRAIN_SEED, make_flowers
from engine.data.procedural import make_eyes
from engine.data.strokes import extract_strokes
from engine.measure.metrics import chamfer, strokes_of
from engine.measure.realism import kid_x1000, style_features


@pytest.fixture(scope="module")
def flowers() -> tuple[np.ndarray, np.ndarray]:
    return make_flowers(40, TRAIN_SEED, 64)


def test_same_seed_same_flowers_and_the_held_out_stream_differs(flowers) -> None:
    again = make_flowers(5, TRAIN_SEED, 64)
    np.testing.assert_array_equal(again[0], flowers[0][:5])
    held_out = make_flowers(5, HELDOUT_SEED, 64)[0]
    assert not any(np.array_equal(a, b) for a in held_out for b in flowers[0])


def test_each_sketch_is_grey_pencil_near_its_drawings_lines_and_nearest_to_it(flowers) -> None:
    drawings, sketches = flowers
    drawing_strokes = [strokes_of(extract_strokes(drawing)) for drawing in drawings]
    hits = 0
    for index, sketch in enumerate(sketches):
        assert np.ptp(sketch.astype(int), axis=2).max() == 0  # grey: no colour in a sketch
        strokes = strokes_of(extract_strokes(sketch))
        assert 0.01 < strokes.ink.mean() < 0.3
        distances = [chamfer(strokes, other) for other in drawing_strokes]
        assert distances[index] < 2.0
        hits += int(np.argmin(distances) == index)
    assert hits >= 38


def test_flowers_are_a_style_of_their_own_not_eyes(flowers) -> None:
    eyes = make_eyes(40, TRAIN_SEED, 64)[0]
    more_flowers = make_flowers(40, HELDOUT_SEED, 64)[0]
    reference = style_features(flowers[0] / 255.0)
    own = kid_x1000(reference, style_features(more_flowers / 255.0))
    other = kid_x1000(reference, style_features(eyes / 255.0))
    assert other > 10 * max(own, 1e-4)
