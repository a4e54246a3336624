"""Request validation and framing a sketch for the model and back."""

import numpy as np
import pytest

from engine.errors import EngineError
from engine.framing import Frame, crop_to_model, frame_sketch, ink_box, model_ink, to_rgba_patch
from engine.request import MAX_PATCH_SIDE, GenerateRequest, Variant


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"mode": "dream"}, "unsupported mode 'dream'"),
        ({"radius": 0}, "radius 0 is out of range"),
        ({"radius": 17}, "radius 17 is out of range"),
        ({"count": 0}, "count 0 is out of range"),
        ({"count": 2.5}, "count must be a whole number"),
        ({"strength": 1.5}, "strength 1.5 is out of range"),
        ({"steps": 0}, "steps 0 is out of range"),
        ({"seed": -1}, "seed -1 is out of range"),
        ({"clean_fills": "no"}, "clean_fills must be true or false, got 'no'"),
    ],
)
def test_bad_parameters_are_named_in_one_line(circle_sketch, changes, message):
    with pytest.raises(EngineError) as error:
        GenerateRequest(sketch=circle_sketch, **changes)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_sketch_must_be_rgba_uint8():
    with pytest.raises(EngineError, match="RGBA"):
        GenerateRequest(sketch=np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(EngineError, match="8-bit"):
        GenerateRequest(sketch=np.zeros((8, 8, 4), np.float32))


def test_empty_sketch_is_an_error_that_says_so():
    blank = np.zeros((50, 50, 4), np.uint8)
    blank[..., :3] = 0  # black but fully transparent: nothing visible
    with pytest.raises(EngineError, match="sketch is empty"):
        ink_box(blank)
    white = np.full((50, 50, 4), 255, np.uint8)
    with pytest.raises(EngineError, match="sketch is empty"):
        ink_box(white)


def test_frame_is_a_square_around_the_ink_with_margin(circle_sketch):
    left, top, right, bottom = ink_box(circle_sketch)
    frame = frame_sketch(circle_sketch)
    assert frame.left < left and frame.top < top
    assert frame.left + frame.side > right and frame.top + frame.side > bottom
    crop = crop_to_model(circle_sketch, frame, 32)
    assert crop.shape == (32, 32, 3)
    ink = model_ink(crop)
    assert ink.any() and not ink[0].any() and not ink[-1].any()  # ink stays inside the frame


def test_sketch_near_the_edge_is_framed_past_it_and_mapped_back_aligned():
    sketch = np.zeros((40, 60, 4), np.uint8)
    sketch[0:6, 50:60] = (0, 0, 0, 255)  # a stroke in the top-right corner
    frame = frame_sketch(sketch)
    assert frame.top < 0 and frame.left + frame.side > 60
    patch = to_rgba_patch(np.zeros((16, 16, 3)), np.ones((16, 16)), frame)  # all-black result
    variant = Variant(0, patch, frame.left, frame.top, 60, 40)
    image = variant.image
    assert image.shape == (40, 60, 4)
    assert image[0:6, 50:60, 3].min() == 255  # the result covers the stroke's place
    assert image[30:, :20, 3].max() == 0  # and nothing far from it


def test_white_results_become_transparent_and_outside_the_region_is_empty():
    sketch = np.zeros((32, 32, 4), np.uint8)
    sketch[10:20, 10:20] = (0, 0, 0, 255)
    frame = frame_sketch(sketch)
    rgb = np.ones((16, 16, 3))
    rgb[4:8, 4:8] = (0.0, 0.1, 0.5)  # has a black channel: fully opaque after colour-to-alpha
    region = np.zeros((16, 16))
    region[2:10, 2:10] = 1.0
    patch = to_rgba_patch(rgb, region, frame)
    assert patch[..., 3].max() == 255  # the coloured block is opaque
    white_inside = patch[: frame.side // 8, : frame.side // 8, 3]
    assert white_inside.max() == 0


def test_huge_sketch_with_a_small_stroke_keeps_variants_lazy():
    sketch = np.zeros((8000, 8000, 4), np.uint8)
    sketch[4000:4030, 5000:5040] = (10, 10, 10, 255)
    frame = frame_sketch(sketch)
    assert frame.side < 100
    patch = to_rgba_patch(np.zeros((16, 16, 3)), np.ones((16, 16)), frame)
    variant = Variant(1, patch, frame.left, frame.top, 8000, 8000)
    assert variant.patch.nbytes < 100 * 100 * 4  # what a result holds per variant


def test_a_drawing_filling_a_huge_sketch_keeps_a_bounded_patch_placed_at_full_size():
    frame = Frame(left=-500, top=-500, side=6000, canvas_width=5000, canvas_height=5000)
    rgb = np.ones((64, 64, 3))
    rgb[:32] = 0.0  # the top half of the result is black
    patch = to_rgba_patch(rgb, np.ones((64, 64)), frame)
    assert patch.shape == (MAX_PATCH_SIDE, MAX_PATCH_SIDE, 4)  # not 6000 px: 4 bytes a pixel
    image = Variant(0, patch, frame.left, frame.top, 5000, 5000, side=frame.side).image
    assert image.shape == (5000, 5000, 4)
    # Enlarged to the frame when placed: the black half ends at the frame's middle (y = 2500).
    assert image[2400, 2000, 3] == 255 and image[2600, 2000, 3] == 0


@pytest.mark.parametrize("side", [800, 3000])
def test_a_thin_pencil_line_on_a_large_layer_stays_a_dark_line_in_the_model_frame(side):
    """A 2 px line shrunk 24-90x stays a dark line (0.84 drawn), thin and in its place."""
    sketch = np.zeros((side, side, 4), np.uint8)
    row = side * 3 // 8
    sketch[row : row + 2, side // 8 : side * 7 // 8] = (40, 40, 40, 255)  # a horizontal line
    sketch[side // 8 : side * 7 // 8, side // 2 : side // 2 + 2, 3] = 255  # and a vertical one
    before = sketch.copy()
    frame = frame_sketch(sketch)
    crop = crop_to_model(sketch, frame, 32)
    darkness = 1.0 - crop.min(axis=-1)
    assert darkness.max() > 0.5  # a plain box shrink leaves 0.07 at 800 px, 0.02 at 3000
    # The line is still thin and where it was: its darkest row is the line's row in the frame.
    line_row = (row + 1 - frame.top) * 32 / frame.side
    assert abs(int(darkness[:, 4:12].mean(axis=1).argmax()) + 0.5 - line_row) <= 1.0
    assert (darkness[:, 6] > 0.3).sum() <= 3
    np.testing.assert_array_equal(sketch, before)  # the layer is read, never modified
