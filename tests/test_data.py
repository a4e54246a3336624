"""Training data: procedural eyes, stroke extraction and loading an artist's folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.data.folder import load_folder
from engine.data.procedural import HELDOUT_SEED, TRAIN_SEED, make_eye, make_eyes
from engine.data.strokes import extract_strokes, sketch_from_drawing
from engine.errors import EngineError


@pytest.fixture(scope="module")
def eyes() -> tuple[np.ndarray, np.ndarray]:
    return make_eyes(120, TRAIN_SEED)


def _points(mask: np.ndarray) -> np.ndarray:
    return np.argwhere(mask).astype(np.float32)


def _mean_nearest(a: np.ndarray, b: np.ndarray) -> float:
    """Mean distance from each ink point of `a` to the nearest ink point of `b`."""
    pa, pb = _points(a), _points(b)
    distances = np.sqrt(((pa[:, None, :] - pb[None, :, :]) ** 2).sum(axis=2))
    return float(distances.min(axis=1).mean())


def _ink_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return rows[0], rows[-1], cols[0], cols[-1]


def test_same_seed_gives_identical_eyes() -> None:
    first, second = make_eyes(6, 7), make_eyes(6, 7)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    one = make_eye(np.random.default_rng(3))
    again = make_eye(np.random.default_rng(3))
    np.testing.assert_array_equal(one.drawing, again.drawing)
    np.testing.assert_array_equal(one.sketch, again.sketch)


def test_a_longer_set_starts_with_the_shorter_one() -> None:
    short, long = make_eyes(3, 5), make_eyes(6, 5)
    np.testing.assert_array_equal(short[0], long[0][:3])
    np.testing.assert_array_equal(short[1], long[1][:3])


@pytest.mark.parametrize("size", [32, 64, 96])
def test_shapes_and_dtypes(size: int) -> None:
    drawings, sketches = make_eyes(4, 0, size)
    assert drawings.shape == sketches.shape == (4, size, size, 3)
    assert drawings.dtype == sketches.dtype == np.uint8
    sample = make_eye(np.random.default_rng(0), size)
    assert sample.drawing.shape == sample.sketch.shape == (size, size, 3)


def test_held_out_set_shares_no_eye_with_the_training_set() -> None:
    train = make_eyes(60, TRAIN_SEED)[0].astype(np.int16)
    held_out = make_eyes(60, HELDOUT_SEED)[0].astype(np.int16)
    assert TRAIN_SEED != HELDOUT_SEED
    differences = np.abs(train[:, None] - held_out[None]).mean(axis=(2, 3, 4))
    assert differences.min() > 2.0


def test_eyes_differ_from_each_other(eyes: tuple[np.ndarray, np.ndarray]) -> None:
    drawings = eyes[0][:40].astype(np.int16)
    differences = np.abs(drawings[:, None] - drawings[None]).mean(axis=(2, 3, 4))
    pairs = differences[np.triu_indices(len(drawings), k=1)]
    assert pairs.mean() > 20.0
    assert pairs.min() > 4.0


def test_eyes_vary_in_position_and_size_and_stay_inside(
    eyes: tuple[np.ndarray, np.ndarray],
) -> None:
    drawings = eyes[0]
    size = drawings.shape[1]
    boxes = np.array([_ink_box(extract_strokes(drawing)) for drawing in drawings])
    top, bottom, left, right = boxes.T
    widths = (right - left + 1) / size
    assert widths.min() < 0.5 and widths.max() > 0.75
    assert np.std((left + right) / 2) > 3 and np.std((top + bottom) / 2) > 4
    assert np.std(bottom - top) > 4
    assert (
        top.min() >= 1 and left.min() >= 1 and bottom.max() <= size - 2 and right.max() <= size - 2
    )


def test_eyes_vary_in_colour(eyes: tuple[np.ndarray, np.ndarray]) -> None:
    hues = []
    for drawing in eyes[0][:40]:
        pixels = drawing.reshape(-1, 3).astype(np.int16)
        chroma = pixels.max(axis=1) - pixels.min(axis=1)
        colourful = pixels[chroma > 60]
        assert len(colourful) > 0, "every eye has a coloured iris"
        hues.append(np.argmax(colourful.mean(axis=0)))
    assert len(set(hues)) == 3


def test_each_sketch_is_grey_lines_on_white(eyes: tuple[np.ndarray, np.ndarray]) -> None:
    for sketch in eyes[1]:
        assert (sketch[..., 0] == sketch[..., 1]).all() and (sketch[..., 1] == sketch[..., 2]).all()
        ink = extract_strokes(sketch)
        assert 0.01 < ink.mean() < 0.25
        assert (sketch > 250).all(axis=2).mean() > 0.6
        assert sketch.min() < 120


def test_sketch_ink_lies_near_the_drawing_strokes(eyes: tuple[np.ndarray, np.ndarray]) -> None:
    for drawing, sketch in zip(*eyes, strict=True):
        assert _mean_nearest(extract_strokes(sketch), extract_strokes(drawing)) < 1.0


def test_sketch_is_rough_not_an_exact_edge_map(eyes: tuple[np.ndarray, np.ndarray]) -> None:
    for drawing, sketch in zip(*eyes[:20], strict=True):
        sketch_ink, drawing_ink = extract_strokes(sketch), extract_strokes(drawing)
        overlap = (sketch_ink & drawing_ink).sum() / (sketch_ink | drawing_ink).sum()
        assert overlap < 0.8


def test_each_sketch_is_nearest_to_its_own_drawing(eyes: tuple[np.ndarray, np.ndarray]) -> None:
    drawings, sketches = eyes[0][:30], eyes[1][:30]
    drawing_inks = [extract_strokes(drawing) for drawing in drawings]
    hits = 0
    for index, sketch in enumerate(sketches):
        sketch_ink = extract_strokes(sketch)
        distances = [
            _mean_nearest(sketch_ink, ink) + _mean_nearest(ink, sketch_ink) for ink in drawing_inks
        ]
        hits += int(np.argmin(distances) == index)
    assert hits >= 29


def test_extract_strokes_finds_dark_lines_without_a_halo() -> None:
    image = np.full((20, 20, 3), 255, np.uint8)
    image[10, 3:17] = 40
    ink = extract_strokes(image)
    expected = np.zeros((20, 20), bool)
    expected[10, 3:17] = True
    np.testing.assert_array_equal(ink, expected)
    assert not extract_strokes(np.full((8, 8, 3), 255, np.uint8)).any()


def test_extract_strokes_outlines_a_coloured_region() -> None:
    image = np.full((20, 20, 3), 255, np.uint8)
    image[5:15, 5:15] = (240, 170, 120)  # light orange: not dark, but clearly a shape
    ink = extract_strokes(image)
    assert ink[5, 8] and ink[14, 8] and ink[8, 5] and ink[8, 14]
    assert not ink[7:13, 7:13].any(), "the inside of the region is not ink"
    assert not ink[:4].any() and not ink[:, :4].any(), "the white around it is not ink"
    np.testing.assert_array_equal(extract_strokes(image.astype(np.float32) / 255.0), ink)


def test_sketch_from_drawing_draws_the_strokes_in_grey_on_white() -> None:
    image = np.full((16, 16, 3), 255, np.uint8)
    image[4:12, 8] = (10, 10, 60)
    sketch = sketch_from_drawing(image)
    assert sketch.shape == (16, 16, 3) and sketch.dtype == np.uint8
    assert (sketch[4:12, 8] < 100).all()
    assert (np.delete(sketch, 8, axis=1) == 255).all()


def _write_drawings(folder: Path) -> None:
    wide = np.full((40, 100, 3), 255, np.uint8)
    wide[15:25, 10:90] = (20, 20, 20)
    Image.fromarray(wide).save(folder / "a_wide.png")
    tall = np.full((81, 37, 3), 255, np.uint8)
    tall[10:70, 15:22] = (30, 60, 200)
    Image.fromarray(tall).save(folder / "b_tall.JPG", quality=95)
    rgba = np.zeros((50, 50, 4), np.uint8)
    rgba[..., :3] = (255, 0, 0)  # red under full transparency must come out white
    rgba[20:30, 20:30] = (0, 0, 0, 255)
    Image.fromarray(rgba, "RGBA").save(folder / "c_alpha.png")
    (folder / "notes.txt").write_text("not a drawing")


def test_load_folder_fits_drawings_on_white_and_sketches_them(tmp_path: Path) -> None:
    _write_drawings(tmp_path)
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    drawings, sketches = load_folder(tmp_path, 32)
    assert drawings.shape == sketches.shape == (3, 32, 32, 3)
    assert drawings.dtype == sketches.dtype == np.uint8
    wide, tall, alpha = drawings
    assert (wide[:8] == 255).all() and (wide[-8:] == 255).all(), "padded above and below"
    assert wide[15, 16].max() < 80, "the line is kept, centred"
    assert (tall[:, :8] >= 250).all() and (tall[:, -8:] >= 250).all(), "padded left and right"
    assert tall[16, 16, 2] > 150 and tall[16, 16, 0] < 100
    assert (alpha[:10] == 255).all(), "transparent pixels become white"
    assert (alpha[15, 15] < 30).all()
    assert extract_strokes(sketches[0]).any() and (sketches[0][0, 0] == 255).all()
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before


def test_load_folder_reads_webp(tmp_path: Path) -> None:
    image = np.full((30, 30, 3), 255, np.uint8)
    image[10:20, 10:20] = 0
    Image.fromarray(image).save(tmp_path / "eye.webp", lossless=True)
    drawings, _ = load_folder(tmp_path, 30)
    np.testing.assert_array_equal(drawings[0], image)


def test_load_folder_reports_a_missing_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(EngineError, match="nowhere.*does not exist"):
        load_folder(missing, 32)


def test_load_folder_reports_a_folder_without_drawings(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("hello")
    with pytest.raises(EngineError, match=r"no drawings in .*\.png.*\.jpg.*\.webp"):
        load_folder(tmp_path, 32)


def test_load_folder_names_an_unreadable_file(tmp_path: Path) -> None:
    _write_drawings(tmp_path)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not really a png")
    with pytest.raises(EngineError, match="broken.png") as raised:
        load_folder(tmp_path, 32)
    assert "\n" not in str(raised.value)
    assert broken.read_bytes() == b"not really a png"
