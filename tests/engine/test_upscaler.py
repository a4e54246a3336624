"""The upsampling stage: its inputs, sizes, training pairs, training, and its place in generate."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.data.construction import with_construction
from engine.data.procedural import make_eye
from engine.data.shapes import make_shape_drawings
from engine.images import write_png
from engine.paths import DEFAULT_MODEL_DIR
from engine.pipeline import Engine
from engine.request import GenerateRequest
from engine.upscaler.config import UpscalerConfig
from engine.upscaler.data import (
    degrade,
    folder_drawings,
    make_upscaler_batch,
    procedural_drawings,
    smooth_field,
    thickened,
)
from engine.upscaler.network import build_upscaler, resize_images, sketch_darkness, upscale
from engine.upscaler.sizing import upscaled_side
from engine.upscaler.stage_one import matched_colours, with_stage_one_guesses
from engine.upscaler.train import steepest_gradients, train_upscaler
from engine.weights import load_model, load_upscaler


def test_untrained_stage_is_the_bicubic_blow_up(tiny_upscaler_config):
    """The zero output layer makes a fresh stage return exactly the blow-up it refines."""
    network = build_upscaler(tiny_upscaler_config.network)
    low = np.random.default_rng(0).uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32)
    darkness = np.zeros((2, 64, 64, 1), np.float32)
    out = np.asarray(upscale(network, low, darkness))
    assert out.shape == (2, 64, 64, 3)
    np.testing.assert_allclose(out, np.asarray(resize_images(low, 64, "bicubic")), atol=1e-5)


def test_stage_output_depends_on_the_sketch(tiny_two_stage_dir):
    network, _ = load_upscaler(tiny_two_stage_dir)
    low = np.zeros((1, 16, 16, 3), np.float32)
    blank = np.zeros((1, 64, 64, 1), np.float32)
    line = blank.copy()
    line[0, 30:33, :, 0] = 1.0
    assert not np.allclose(upscale(network, low, blank), upscale(network, low, line))


@pytest.mark.parametrize(
    ("frame_side", "expected"),
    [(40, None), (48, None), (49, 64), (70, 72), (96, 96), (200, 96)],
)
def test_upscaled_side_stays_in_the_trained_range(tiny_upscaler_config, frame_side, expected):
    # Tiny stage: factor 4, trained on 64-96 px; model size 32 (blow-up up to 48 px frames).
    assert upscaled_side(frame_side, 32, tiny_upscaler_config) == expected


def test_shipped_sizes_for_real_layers():
    config = UpscalerConfig()
    assert upscaled_side(96, 64, config) is None
    assert upscaled_side(300, 64, config) == 512
    assert upscaled_side(770, 64, config) == 776
    assert upscaled_side(3000, 64, config) == 1024


def test_sketch_darkness_is_the_darkest_channel():
    rgb = np.array([[[255, 255, 255], [10, 200, 90]]], np.uint8)
    assert sketch_darkness(rgb).tolist() == [[0, 245]]


def test_degrade_keeps_range_and_changes_the_image(tiny_upscaler_config):
    low = np.ones((16, 16, 3), np.float32)
    low[6:10, :] = -1.0
    out = degrade(low, tiny_upscaler_config.train, np.random.default_rng(0))
    assert out.shape == low.shape and out.dtype == np.float32
    assert out.min() >= -1.0 and out.max() <= 1.0
    assert not np.allclose(out, low)
    assert out[8].mean() < 0.0 < out[0].mean()  # the line is still where it was, softened


def test_thickening_widens_and_darkens_a_line_only():
    low = np.ones((16, 16, 3), np.float32)
    low[8, :] = -0.5
    low[8, 4] = -1.0  # a darker dot on the line
    out = thickened(low, 0.5)
    assert (out[8, 3] < low[8, 3]).all()  # the dot darkens the line beside it
    np.testing.assert_allclose(out[7, 10:], 0.25)  # a pixel wider each side, half as dark
    np.testing.assert_allclose(out[9, 10:], 0.25)
    np.testing.assert_array_equal(out[:6], low[:6])  # paper away from it untouched
    np.testing.assert_array_equal(thickened(low, 0.0), low)


def test_degrade_thickens_only_when_configured(tiny_upscaler_config):
    low = np.ones((16, 16, 3), np.float32)
    low[8, :] = -1.0
    plain = tiny_upscaler_config.train
    heavy = dataclasses.replace(plain, thicken_max=1.0)
    darkness = [
        (1.0 - degrade(low, config, np.random.default_rng(seed))).sum()
        for seed in range(6)
        for config in (plain, heavy)
    ]
    # The same random draws, except for the thickening: each heavy line carries more ink.
    assert all(heavy > plain for plain, heavy in zip(darkness[::2], darkness[1::2], strict=True))


def test_mottling_adds_smooth_blotches_only_when_configured(tiny_upscaler_config):
    low = np.zeros((64, 64, 3), np.float32)  # a mid-grey fill: nothing to clip
    plain = tiny_upscaler_config.train
    mottled = dataclasses.replace(plain, mottle_max=0.2)
    for seed in range(4):
        blotches = degrade(low, mottled, np.random.default_rng(seed)) - degrade(
            low, plain, np.random.default_rng(seed)
        )
        # The other degradations draw the same: what differs is the field, smooth at the
        # pixel scale (neighbours far closer than the field's spread).
        neighbour_step = np.abs(np.diff(blotches, axis=1)).mean()
        assert blotches.std() > 0.01 and neighbour_step < 0.4 * blotches.std()
    field = smooth_field((64, 64, 3), np.random.default_rng(0))
    assert field.std() == pytest.approx(1.0, abs=1e-3) and abs(field.mean()) < 1e-3


def test_construction_strokes_lie_over_the_sketch_and_keep_its_lines():
    sample = make_eye(np.random.default_rng([4, 0]), 256, 1.0)
    sketch = sample.sketch
    marked = with_construction(sketch, np.random.default_rng(1), 1.0)
    assert marked.shape == sketch.shape and marked.dtype == np.uint8
    assert (marked <= sketch).all()  # strokes only add graphite
    added = (marked.min(-1) < 200) & (sketch.min(-1) >= 200)
    assert added.sum() > 50
    ys, xs = np.nonzero(sketch.min(-1) < 200)
    new_ys, new_xs = np.nonzero(added)
    margin = 0.35 * max(np.ptp(ys), np.ptp(xs))  # guides of the drawn part, around it
    assert new_ys.min() >= ys.min() - margin and new_ys.max() <= ys.max() + margin
    assert new_xs.min() >= xs.min() - margin and new_xs.max() <= xs.max() + margin
    blank = np.full_like(sketch, 255)
    np.testing.assert_array_equal(with_construction(blank, np.random.default_rng(1), 1.0), blank)


def test_construction_share_marks_sketches_not_drawings(tiny_upscaler_config):
    config = tiny_upscaler_config
    marked_config = dataclasses.replace(config.train, construction_share=1.0)
    factor = config.network.factor
    plain = procedural_drawings(2, 1, config.train, factor, seed=0)
    marked = procedural_drawings(2, 1, marked_config, factor, seed=0)
    for before, after in zip(plain, marked, strict=True):
        np.testing.assert_array_equal(before.drawing, after.drawing)
        np.testing.assert_array_equal(before.low, after.low)
        assert (after.darkness >= before.darkness).all()
        assert (after.darkness > before.darkness + 60).sum() > 20


def test_batches_are_cell_aligned_crops(tiny_upscaler_config):
    config = tiny_upscaler_config
    factor = config.network.factor
    drawings = procedural_drawings(2, 2, config.train, factor, seed=0)
    for item in drawings:
        side = item.drawing.shape[0]
        assert side % factor == 0 and config.train.min_side <= side <= config.train.max_side
        assert item.low.shape == (config.train.low_size, config.train.low_size, 3)
        assert item.darkness.max() > 100  # the sketch has lines
    batch = make_upscaler_batch(
        drawings, config.train, factor, np.random.default_rng(3), resize_images
    )
    cells, crop = config.train.crop_cells, config.train.crop_cells * factor
    assert batch.low_on_grid.shape == (config.train.batch_size, cells, cells, 3)
    assert batch.darkness.shape == (config.train.batch_size, crop, crop, 1)
    assert batch.blown_up.shape == batch.targets.shape == (config.train.batch_size, crop, crop, 3)
    assert batch.targets.min() >= -1.0 and batch.targets.max() <= 1.0
    assert batch.targets.min() < 0.5  # crops are centred on something drawn


def test_shapes_are_seeded_line_art():
    drawings, sketches = make_shape_drawings(3, 5, size=64)
    again, _ = make_shape_drawings(3, 5, size=64)
    np.testing.assert_array_equal(drawings, again)
    assert drawings.shape == sketches.shape == (3, 64, 64, 3)
    assert (sketches < 128).any(axis=(1, 2, 3)).all()  # every sketch has lines
    assert not np.array_equal(drawings[0], drawings[1])


def test_training_writes_a_loadable_stage_and_fine_tunes(tiny_upscaler_config, tmp_path):
    config = tiny_upscaler_config
    drawings = procedural_drawings(2, 2, config.train, config.network.factor, seed=0)
    trainer = train_upscaler(
        config, drawings, tmp_path / "base" / "upscaler", report=lambda _: None
    )
    assert trainer.step == config.train.steps
    network, loaded = load_upscaler(tmp_path / "base")
    assert loaded == config
    tuned_config = dataclasses.replace(config, train=dataclasses.replace(config.train, steps=2))
    tuned = train_upscaler(
        tuned_config,
        drawings,
        tmp_path / "tuned" / "upscaler",
        from_dir=tmp_path / "base",
        report=lambda _: None,
    )
    assert tuned.started_from["trained_steps"] == config.train.steps


def test_folder_drawings_keep_their_resolution(tiny_upscaler_config, tmp_path):
    drawings, _ = make_shape_drawings(2, 9, size=90)
    for index, drawing in enumerate(drawings):
        rgba = np.concatenate([drawing, np.full((90, 90, 1), 255, np.uint8)], axis=-1)
        write_png(rgba, tmp_path / f"drawing{index}.png")
    loaded = folder_drawings(tmp_path, tiny_upscaler_config.train, 4)
    assert [item.drawing.shape[0] for item in loaded] == [88, 88]  # 90 px, down to the factor
    assert all(item.darkness.max() > 100 for item in loaded)


def test_generate_goes_through_both_stages(tiny_two_stage_dir, tiny_model_dir):
    sketch = np.zeros((120, 150, 4), np.uint8)
    ys, xs = np.mgrid[:120, :150]
    sketch[np.abs(np.hypot(xs - 75, ys - 60) - 40) < 2.0] = (20, 20, 20, 255)
    two_stage = Engine.load(tiny_two_stage_dir)
    one_stage = Engine.load(tiny_model_dir)
    assert two_stage.info["upscaler"] and not one_stage.info["upscaler"]
    request = GenerateRequest(sketch=sketch, count=2, seed=3)
    upscaled = two_stage.generate(request).variants
    blown_up = two_stage.generate(dataclasses.replace(request, upscale=False)).variants
    plain = one_stage.generate(request).variants
    assert upscaled[0].image.shape == (120, 150, 4)
    assert upscaled[0].patch.shape == blown_up[0].patch.shape
    # upscale=False is exactly the one-stage pipeline; upscale=True changes the pixels.
    np.testing.assert_array_equal(blown_up[0].patch, plain[0].patch)
    assert not np.array_equal(upscaled[0].patch, blown_up[0].patch)
    assert sketch.sum() == np.asarray(request.sketch).sum()  # the sketch is untouched


def test_noise_mode_ignores_the_sketch_in_both_stages(tiny_two_stage_dir):
    """Two sketches with the same frame: the noise baseline draws the same, the mask does not."""
    ring = np.zeros((120, 150, 4), np.uint8)
    ys, xs = np.mgrid[:120, :150]
    ring[np.abs(np.hypot(xs - 75, ys - 60) - 40) < 2.0] = (20, 20, 20, 255)
    crossed = ring.copy()
    crossed[58:62, 40:110] = (20, 20, 20, 255)  # a stroke inside the ring: same ink box
    engine = Engine.load(tiny_two_stage_dir)

    def patches(sketch, mode):
        request = GenerateRequest(sketch=sketch, count=1, seed=3, mode=mode)
        return engine.generate(request).variants[0].patch

    np.testing.assert_array_equal(patches(ring, "noise"), patches(crossed, "noise"))
    assert not np.array_equal(patches(ring, "mask"), patches(crossed, "mask"))


def test_upscaler_config_names_the_wrong_field(tiny_upscaler_config):
    from engine.errors import EngineError

    data = tiny_upscaler_config.to_dict()
    assert UpscalerConfig.from_dict(data) == tiny_upscaler_config
    data["network"]["factor"] = 0
    with pytest.raises(EngineError, match="network.factor"):
        UpscalerConfig.from_dict(data)
    data["network"]["factor"] = "8"
    with pytest.raises(EngineError, match="network.factor"):
        UpscalerConfig.from_dict(data)
    data["network"].update(factor=4, ladder=[8, 8, 8])  # three x2 rungs cannot fit in x4
    with pytest.raises(EngineError, match="network.ladder"):
        UpscalerConfig.from_dict(data)
    data["network"]["ladder"] = [8]
    for name in ("construction_share", "thicken_max", "mottle_max", "steepest_share"):
        data["train"][name] = 1.5
        with pytest.raises(EngineError, match=f"train.{name} must be between 0 and 1"):
            UpscalerConfig.from_dict(data)
        data["train"][name] = 0.5
    assert UpscalerConfig.from_dict(data).train.thicken_max == 0.5
    data["train"].update(stage_one_strength_min=0.8, stage_one_strength_max=0.5)
    with pytest.raises(EngineError, match="stage_one_strength_min must not exceed"):
        UpscalerConfig.from_dict(data)
    data["train"].update(stage_one_strength_min=0.3, stage_one_departure=0.0)
    with pytest.raises(EngineError, match="stage_one_departure must be positive"):
        UpscalerConfig.from_dict(data)
    data["train"]["stage_one_departure"] = 0.08
    assert UpscalerConfig.from_dict(data).train.stage_one_strength_min == 0.3


def test_stages_saved_before_the_ladder_rebuild_without_rungs(tiny_upscaler_config):
    data = tiny_upscaler_config.to_dict()
    del data["network"]["ladder"]
    config = UpscalerConfig.from_dict(data)
    assert config.network.ladder == ()

    def transposed(network_config) -> int:
        layers = build_upscaler(network_config).layers
        return sum(type(layer).__name__ == "Conv2DTranspose" for layer in layers)

    assert transposed(config.network) == 1  # straight from the trunk to full size
    assert transposed(tiny_upscaler_config.network) == 2  # one x2 rung, then the rest


@pytest.mark.parametrize("ladder", [(), (6,), (6, 4)])
def test_every_ladder_brings_the_grid_to_the_sketchs_side(tiny_upscaler_config, ladder):
    network_config = dataclasses.replace(tiny_upscaler_config.network, ladder=ladder)
    network = build_upscaler(network_config)
    low = np.zeros((1, 16, 16, 3), np.float32)
    out = np.asarray(upscale(network, low, np.zeros((1, 48, 48, 1), np.float32)))
    assert out.shape == (1, 48, 48, 3)


def testmatched_colours_undo_a_colour_shift():
    drawing = np.random.default_rng(0).uniform(-1, 1, (8, 8, 3)).astype(np.float32)
    shifted = drawing * np.array([0.5, 0.8, 0.6], np.float32) + np.array([0.3, -0.1, 0.2])
    np.testing.assert_allclose(matched_colours(shifted, drawing), drawing, atol=1e-4)


def test_batches_take_stage_one_redrawings_at_their_share(tiny_upscaler_config):
    config = tiny_upscaler_config
    factor = config.network.factor
    drawings = procedural_drawings(2, 0, config.train, factor, seed=0)
    black = np.full((1,) + drawings[0].low.shape, -1.0, np.float32)
    with_black = [dataclasses.replace(item, stage_one=black) for item in drawings]

    def mean_input(share: float) -> float:
        train = dataclasses.replace(config.train, stage_one_share=share)
        rng = np.random.default_rng(5)
        batch = make_upscaler_batch(with_black, train, factor, rng, resize_images)
        return float(batch.blown_up.mean())

    assert mean_input(1.0) < -0.8 < 0.0 < mean_input(0.0)


def test_stage_one_redrawings_keep_the_drawing_and_drop_strangers():
    train = dataclasses.replace(UpscalerConfig().train, min_side=128, max_side=128)
    drawings = procedural_drawings(2, 2, train, 8, seed=0)
    network, config = load_model(DEFAULT_MODEL_DIR)
    recipe = dataclasses.replace(train, stage_one_per_drawing=2)
    redrawn = with_stage_one_guesses(drawings, network, config, recipe, seed=0)
    eyes, shapes = redrawn[:2], redrawn[2:]
    for item in eyes:  # the shipped model knows eyes: its re-drawings are flawed copies
        assert item.stage_one is not None and item.stage_one.shape[1:] == item.low.shape
        departure = np.abs(item.stage_one - item.low).mean(axis=(1, 2, 3))
        assert (departure <= recipe.stage_one_departure).all() and (departure > 0.005).all()
    # It turns shapes into eye-like blobs: new drawings, not copies, so they are dropped.
    assert any(item.stage_one is None for item in shapes)


def test_stronger_redrawings_depart_further_from_their_drawing():
    train = dataclasses.replace(UpscalerConfig().train, min_side=128, max_side=128)
    drawings = procedural_drawings(3, 0, train, 8, seed=1)
    network, config = load_model(DEFAULT_MODEL_DIR)

    def departure(low: float, high: float) -> float:
        recipe = dataclasses.replace(
            train,
            stage_one_per_drawing=1,
            stage_one_strength_min=low,
            stage_one_strength_max=high,
            stage_one_departure=1.0,  # keep every re-drawing, to compare them all
        )
        redrawn = with_stage_one_guesses(drawings, network, config, recipe, seed=0)
        return float(np.mean([np.abs(item.stage_one - item.low).mean() for item in redrawn]))

    assert departure(0.7, 0.85) > departure(0.15, 0.2) + 0.005


def test_steepness_compares_edges_wherever_they_lie():
    columns = np.arange(32, dtype=np.float32)
    sharp = np.where(columns < 16, -1.0, 1.0).astype(np.float32)
    shifted = np.where(columns < 19, -1.0, 1.0).astype(np.float32)
    soft = np.clip((columns - 15.5) / 4, -1, 1).astype(np.float32)  # the same edge, 8 px wide

    def image(row):
        return np.broadcast_to(row[None, :, None], (32, 32, 3))[None]

    def gap(a, b) -> float:
        steepest = [steepest_gradients(image(row), 0.01) for row in (a, b)]
        return float(np.mean(np.abs(steepest[0] - steepest[1])))

    assert gap(sharp, shifted) < 1e-4  # a misplaced edge as steep costs nothing here
    assert gap(sharp, soft) > 1.0  # a soft edge does


def test_matching_every_gradient_takes_in_the_fills_flatness():
    columns = np.arange(32, dtype=np.float32)
    edge = np.where(columns < 16, -1.0, 0.5).astype(np.float32)
    flat = np.broadcast_to(edge[None, :, None], (32, 32, 3))[None].astype(np.float32)
    mottled = flat + np.random.default_rng(0).uniform(-0.03, 0.03, (1, 32, 32, 1)).astype(
        np.float32
    )
    every = [np.asarray(steepest_gradients(image, 1.0))[0] for image in (flat, mottled)]
    assert every[0].shape == (31 * 31,)  # every pixel's gradient, steepest first
    assert (every[0] < 1e-3).mean() > 0.9 and (every[1] < 1e-3).mean() < 0.1
    assert np.asarray(steepest_gradients(flat, 0.01)).shape == (1, 9)  # the edge's alone
