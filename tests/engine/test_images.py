"""The integer image helpers give the same bytes as the float paths they replace."""

from __future__ import annotations

import numpy as np

from engine.images import darkest_channel, flatten_on_white, flattened_bytes


def test_flattened_bytes_equal_the_float_composite_rounded_for_every_colour_and_alpha():
    channel, alpha = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    rgba = np.stack([channel, 255 - channel, channel // 2, alpha], axis=-1).astype(np.uint8)
    expected = (flatten_on_white(rgba) * 255).round().astype(np.uint8)
    np.testing.assert_array_equal(flattened_bytes(rgba), expected)


def test_darkest_channel_is_the_smallest_of_r_g_b_and_ignores_alpha():
    rgba = np.random.default_rng(0).integers(0, 256, (17, 9, 4), dtype=np.uint8)
    np.testing.assert_array_equal(darkest_channel(rgba), rgba[..., :3].min(axis=-1))
    assert darkest_channel(rgba).dtype == np.uint8
