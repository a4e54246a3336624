"""The colour hint's pure parts: a drawing's main colour, the palette, parsing a colour."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest

from engine.diffusion.colour import (
    hint_input,
    hue_saturation,
    main_colour,
    palette_colour,
    palette_of,
    parse_colour,
)


def _drawing(colour: tuple[float, float, float], dark_rim: bool = True) -> np.ndarray:
    """White page, a black outline, and a disc of `colour` with a near-black saturated rim."""
    image = np.ones((32, 32, 3), np.float32)
    ys, xs = np.mgrid[:32, :32]
    distance = np.hypot(xs - 16, ys - 16)
    image[distance < 10] = colour
    if dark_rim:
        image[(distance >= 8) & (distance < 10)] = np.asarray(colour) * 0.15
    image[np.abs(distance - 12) < 0.8] = 0.05
    return image


def test_hue_and_saturation_of_primaries_and_grey():
    pixels = np.array([[[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.5, 0.5]]], np.float32)
    hue, saturation = hue_saturation(pixels)
    np.testing.assert_allclose(hue[0], [0, 1 / 3, 2 / 3, 0], atol=1e-6)
    np.testing.assert_allclose(saturation[0], [1, 1, 1, 0], atol=1e-6)


def test_main_colour_is_the_fill_not_the_dark_rim_or_the_lines():
    colour = main_colour(_drawing((0.2, 0.5, 0.9)))
    np.testing.assert_allclose(colour, [0.2, 0.5, 0.9], atol=0.02)


def test_a_grey_drawing_has_no_main_colour_and_no_hint():
    grey = _drawing((0.5, 0.5, 0.5))
    assert main_colour(grey) is None
    assert not hint_input(None).any()


def test_hint_input_is_the_colour_in_the_network_range_with_a_flag():
    hint = hint_input(np.array([1.0, 0.5, 0.0]))
    assert hint.shape == (1, 1, 4) and hint.dtype == np.float32
    np.testing.assert_allclose(hint[0, 0], [1.0, 0.0, -1.0, 1.0])


def test_palette_holds_the_drawings_colours_and_skips_grey_ones():
    drawings = np.stack(
        [_drawing((0.9, 0.2, 0.2)), _drawing((0.5, 0.5, 0.5)), _drawing((0.2, 0.8, 0.3))]
    )
    palette = np.asarray(palette_of(drawings)).reshape(-1, 3)
    assert len(palette) == 2
    assert palette[0, 0] > 200 and palette[1, 1] > 180


def test_palette_colour_is_a_pure_function_of_the_seed():
    palette = (255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30)
    picks = [tuple(palette_colour(palette, seed)) for seed in range(40)]
    assert picks == [tuple(palette_colour(palette, seed)) for seed in range(40)]
    assert len(set(picks)) == 4  # every colour is drawn by some seed
    assert palette_colour((), 3) is None


def _hue_palette(count: int) -> tuple[int, ...]:
    """`count` vivid colours, their hues evenly round the wheel, listed in shuffled order."""
    hues = np.random.default_rng(0).permutation(count) / count
    rgb = [colorsys.hsv_to_rgb(hue, 0.8, 0.9) for hue in hues]
    return tuple(int(round(channel * 255)) for colour in rgb for channel in colour)


def test_a_requests_consecutive_seeds_get_hues_spread_round_the_wheel():
    palette = _hue_palette(64)
    for first in (0, 8, 1234, 2**31 - 9):
        colours = np.stack([palette_colour(palette, first + i) for i in range(8)])
        hues = np.sort(hue_saturation(colours)[0])
        gaps = np.diff(np.concatenate([hues, hues[:1] + 1.0]))
        assert gaps.min() >= 0.05  # chance draws put two of eight within 0.05 most of the time
        assert gaps.max() <= 0.25


def test_over_many_seeds_every_palette_colour_is_drawn_equally_often():
    palette = _hue_palette(16)
    picks = [tuple(palette_colour(palette, seed)) for seed in range(1600)]
    counts = np.unique(np.array(picks), axis=0, return_counts=True)[1]
    assert len(counts) == 16
    assert counts.min() >= 95 and counts.max() <= 105


def test_parse_colour_reads_hex_and_names_what_is_wrong():
    np.testing.assert_allclose(parse_colour("#ff8000"), [1.0, 128 / 255, 0.0])
    np.testing.assert_allclose(parse_colour("3A7BD5"), [0x3A / 255, 0x7B / 255, 0xD5 / 255])
    for bad in ("#ff80", "blue", "#gg0000", ""):
        with pytest.raises(ValueError, match="#rrggbb"):
            parse_colour(bad)
