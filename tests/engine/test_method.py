"""The method's two steps, the start of a mask below pure noise, and the two ink thresholds: pure
NumPy, exact answers."""

import numpy as np
import pytest

from engine.config import ScheduleConfig
from engine.diffusion.masks import INK_THRESHOLD, SHRUNK_INK_THRESHOLD, ink_of
from engine.diffusion.method import (
    PAPER_WHITENESS,
    keep_background,
    noise_at,
    sketch_under_noise,
)
from engine.diffusion.schedule import rates
from engine.framing import Frame, crop_to_model, model_ink

SCHEDULE = ScheduleConfig()


def test_noise_at_mixes_drawing_and_noise_by_the_schedules_rates():
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (2, 4, 4, 3))
    noises = rng.standard_normal(images.shape)
    times = np.array([0.25, 1.0]).reshape(-1, 1, 1, 1)  # one time per image
    noisy = noise_at(images, noises, times, SCHEDULE)
    for i, t in enumerate((0.25, 1.0)):
        noise_rate, signal_rate = rates(t, SCHEDULE)
        np.testing.assert_allclose(noisy[i], signal_rate * images[i] + noise_rate * noises[i])
    # At t = 1 (the paper's level 0) the drawing is almost gone.
    assert np.abs(noisy[1] - noises[1]).max() < 0.05


def test_keep_background_keeps_the_images_inside_and_the_background_outside():
    images = np.full((2, 3, 3, 3), 5.0)
    background = np.arange(27, dtype=float).reshape(3, 3, 3)
    region = np.zeros((1, 3, 3, 1))
    region[:, 1, 1] = 1.0
    kept = keep_background(images, region, background)
    assert kept.shape == images.shape
    np.testing.assert_array_equal(kept[:, 1, 1], 5.0)
    outside = np.broadcast_to(region[0, ..., 0] == 0, (3, 3))
    for image in kept:
        np.testing.assert_array_equal(image[outside], background[outside])


def _hairline(side: int, grey: int) -> np.ndarray:
    """An RGBA sketch, side x side, with one opaque vertical line one pixel wide."""
    sketch = np.zeros((side, side, 4), np.uint8)
    sketch[4:-4, side // 2 + 1] = (grey, grey, grey, 255)
    return sketch


def test_generation_finds_at_half_size_every_stroke_training_counts_as_ink():
    """Why two thresholds, and how they relate.

    Training detects ink on sketches drawn at the model's size (INK_THRESHOLD). Generation
    first shrinks the artist's sketch to the model's size, and a box shrink by 2 halves a
    one-pixel stroke's darkness, so it detects ink at SHRUNK_INK_THRESHOLD <= INK_THRESHOLD / 2:
    the faintest hairline that counts as ink at twice the model's size still counts after it.
    """
    assert SHRUNK_INK_THRESHOLD <= INK_THRESHOLD / 2
    # The lightest 8-bit grey that is ink at full size: darkness 64/255, just above 0.25.
    grey = 255 - int(np.floor(INK_THRESHOLD * 255)) - 1
    assert ink_of(np.full((1, 1, 3), grey / 255)).all()
    assert not ink_of(np.full((1, 1, 3), (grey + 1) / 255)).any()
    sketch = _hairline(64, grey)
    shrunk = crop_to_model(sketch, Frame(0, 0, 64, 64, 64), 32)  # a 2x box shrink
    assert model_ink(shrunk)[4:-4].any(axis=1).all()  # the whole line is still there


@pytest.mark.parametrize("tone", [0.9, 0.95])
def test_a_faint_paper_tone_is_not_ink_at_either_threshold(tone):
    # Shrinking leaves a flat tone as it is, so the lower threshold must still stay above it.
    paper = np.full((8, 8, 3), tone)
    assert not ink_of(paper).any()
    assert not model_ink(paper).any()


def test_a_mask_started_below_pure_noise_noises_the_sketch_with_its_paper_half_white():
    sketch = np.array([[[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0], [0.4, -0.2, 1.0]]], np.float32)
    dimmed = sketch_under_noise(sketch, "mask", 0.9)
    np.testing.assert_allclose(dimmed[0, 0], [PAPER_WHITENESS] * 3)  # paper: half white
    np.testing.assert_allclose(dimmed[0, 1], [-1.0] * 3)  # ink as drawn
    np.testing.assert_allclose(dimmed[0, 2], [0.4 * PAPER_WHITENESS, -0.2, PAPER_WHITENESS])
    # The paper's pure-noise start and sdedit noise the sketch itself.
    assert sketch_under_noise(sketch, "mask", 1.0) is sketch
    assert sketch_under_noise(sketch, "sdedit", 0.5) is sketch
