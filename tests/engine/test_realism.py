"""The realism figure: it ranks real, blurred, desaturated and grey drawings as an eye would."""

from __future__ import annotations

import numpy as np
import pytest

from engine.data.procedural import HELDOUT_SEED, make_eyes
from engine.measure.realism import (
    desaturated,
    kid_x1000,
    realism_table,
    references,
    saturation_p90,
    style_features,
)


@pytest.fixture(scope="module")
def drawings() -> tuple[np.ndarray, np.ndarray]:
    images = make_eyes(96, HELDOUT_SEED, 64)[0].astype(np.float32) / 255.0
    return images[:48], images[48:]


def test_kid_is_near_zero_for_one_distribution_and_large_for_another():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(200, 16)), rng.normal(size=(200, 16))
    assert abs(kid_x1000(a, b)) < 50
    assert kid_x1000(a, b + 3.0) > 1000


def test_saturation_of_grey_is_zero_and_drops_when_half_desaturated(drawings):
    real = drawings[0]
    assert saturation_p90(desaturated(real, 1.0)) == 0.0
    assert saturation_p90(real) > 0.4
    assert (
        0.3 * saturation_p90(real)
        < saturation_p90(desaturated(real, 0.5))
        < 0.8 * saturation_p90(real)
    )
    assert saturation_p90(np.ones((2, 8, 8, 3))) == 0.0  # nothing painted


def test_the_scale_orders_the_references_floor_blur_desaturation_grey(drawings):
    real, other = drawings
    rows = {
        row["set"]: row["kid_x1000"] for row in realism_table(real, references(real, other, 32))
    }
    floor = rows["other real drawings (floor)"]
    grey = rows["real drawings in greyscale"]
    assert floor < rows["real drawings half desaturated"] < grey
    assert floor < rows["real drawings blurred through 32 px"] < grey


def test_features_have_one_row_per_image_at_any_side(drawings):
    small = style_features(drawings[0][:3])
    large = style_features(np.repeat(np.repeat(drawings[0][:3], 2, axis=1), 2, axis=2))
    assert small.shape == large.shape == (3, small.shape[1])
    # Edge features are scaled to be size-free: the same drawing at twice the side is close.
    assert np.abs(small - large).max() < 0.3


def test_the_picture_keeps_each_row_in_line_when_frames_differ(tiny_model_dir, tmp_path):
    from PIL import Image

    from engine.framing import crop_to_model, frame_sketch
    from engine.measure.evaluate import held_out_eyes
    from engine.measure.realism import PICTURE_COLUMNS, write_picture
    from engine.pipeline import Engine

    held_out = held_out_eyes(PICTURE_COLUMNS, 256)
    sides = [frame_sketch(layer).side for layer in held_out.layers]
    assert len(set(sides)) > 1  # the case at stake: frames of different sizes
    write_picture(Engine.load(tiny_model_dir), held_out, tmp_path / "picture.png")
    picture = np.asarray(Image.open(tmp_path / "picture.png")).astype(np.float32) / 255.0
    row = max(sides) + 8  # every row as tall as the tallest frame, and a gap
    left = 0
    for layer, side in zip(held_out.layers, sides, strict=True):
        sketch = crop_to_model(layer, frame_sketch(layer), side)
        first_ink = np.flatnonzero((sketch.min(axis=-1) < 0.5).any(axis=1))[0]
        column = picture[row : 2 * row, left : left + side]  # the second row: the sketches
        assert np.flatnonzero((column.min(axis=-1) < 0.5).any(axis=1))[0] == first_ink
        left += side + 8
