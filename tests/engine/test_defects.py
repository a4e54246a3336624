"""Line weight, colour spill, flat and dark fills: the variants' lines, washes and fills against
their own drawings."""

from __future__ import annotations

import numpy as np
import pytest

from engine.measure.defects import flat_fill_share, sketch_defects, summarised

TEAL = (0.1, 0.6, 0.6)


def _distance_to_centre(side: int) -> np.ndarray:
    """Each pixel's distance, in 64ths of the frame, from the iris's centre."""
    ys, xs = np.mgrid[:side, :side] / (side // 64)
    return np.hypot(ys - 36, xs - 32)


def _drawing(side: int = 256) -> np.ndarray:
    """A drawing on white: a dark lid line over a teal iris disc with a solid dark pupil, in a
    frame of `side` px."""
    image = np.ones((side, side, 3), np.float32)
    unit = side // 64
    image[20 * unit : 22 * unit, 8 * unit : 56 * unit] = 0.1
    image[_distance_to_centre(side) < 8] = TEAL
    image[_distance_to_centre(side) < 4] = 0.05
    return image


def _sketch_ink(side: int = 256) -> np.ndarray:
    """The drawing's sketch: the lid line and the outlines of the iris and the pupil."""
    unit = side // 64
    ink = np.zeros((side, side), bool)
    ink[20 * unit : 22 * unit, 8 * unit : 56 * unit] = True
    distance = _distance_to_centre(side)
    return ink | (np.abs(distance - 8) < 0.5) | (np.abs(distance - 4) < 0.5)


def _figures(variant: np.ndarray, drawing: np.ndarray) -> dict[str, float]:
    return summarised([sketch_defects(variant[None], drawing, _sketch_ink())])


def test_a_variant_drawn_as_its_drawing_has_weight_one_and_no_spill():
    drawing = _drawing()
    figures = _figures(drawing, drawing)
    assert figures["line_weight"] == pytest.approx(1.0) and figures["colour_spill"] == 0.0
    assert figures["flat_fills"] == figures["drawings_flat_fills"] > 0.9


def test_heavier_lines_weigh_more_than_the_drawings():
    drawing = _drawing()
    heavy = drawing.copy()
    heavy[72:96, 32:224] = 0.1  # the lid three times as thick
    assert _figures(heavy, drawing)["line_weight"] > 1.5
    # Line weight is the sketches' dark pixels together over their drawings'.
    both = summarised(
        [
            sketch_defects(heavy[None], drawing, _sketch_ink()),
            sketch_defects(drawing[None], drawing, _sketch_ink()),
        ]
    )
    assert 1.0 < both["line_weight"] < _figures(heavy, drawing)["line_weight"]


def test_a_wash_below_the_iris_spills_and_one_far_from_the_drawing_does_not():
    drawing = _drawing()
    lilac = (0.85, 0.7, 0.9)
    drip = drawing.copy()
    drip[184:200, 112:144] = lilac  # 2-6 px (of 64) below the iris
    far = drawing.copy()
    far[240:256, 0:16] = lilac  # a corner of the frame, away from the eye
    assert _figures(drip, drawing)["colour_spill"] > 0.002
    assert _figures(far, drawing)["colour_spill"] == 0.0
    # Grey on the paper is not colour: heavier lines are line weight's business.
    grey = drawing.copy()
    grey[184:200, 112:144] = 0.5
    assert _figures(grey, drawing)["colour_spill"] == 0.0


def test_a_mottled_iris_is_not_flat_and_the_styles_gentle_shading_is():
    drawing = _drawing()
    assert flat_fill_share(drawing) > 0.9  # the disc's rim and the lid are edges, not fill
    iris = np.all(np.isclose(drawing, TEAL), axis=-1)
    assert iris.sum() > 2000
    ys = np.mgrid[:256, :256][0]
    shaded = drawing.copy()  # the teal darkening towards the top, as the drawings' irises do
    shaded[iris] *= (0.55 + 0.45 * (ys[iris] - 112) / 64)[:, None].clip(0.5, 1.0)
    mottled = drawing.copy()
    blotches = np.kron(np.random.default_rng(0).uniform(-0.06, 0.06, (32, 32)), np.ones((8, 8)))
    mottled[iris] += blotches[iris][:, None]
    assert flat_fill_share(shaded) > 0.9 and flat_fill_share(mottled) < 0.5
    assert flat_fill_share(np.ones((256, 256, 3), np.float32)) == 0.0  # paper only: no fill


def test_a_ring_pupil_misses_the_dark_fill_a_solid_one_has():
    drawing = _drawing()
    assert _figures(drawing, drawing)["dark_fills"] == pytest.approx(1.0)
    ring = drawing.copy()  # the pupil's outline drawn, its inside painted in the iris's colour
    ring[_distance_to_centre(256) < 3.5] = TEAL
    assert _figures(ring, drawing)["dark_fills"] < 0.2
    # Thicker lines along the sketch's own strokes are line weight's business, not dark fill's.
    heavy_lid = drawing.copy()
    heavy_lid[80:88, 32:224] = 0.1
    assert _figures(heavy_lid, drawing)["dark_fills"] == pytest.approx(1.0)
