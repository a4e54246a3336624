"""Clean fills: the bilateral smoothing of stage 1's images, its config section, the engine."""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from engine import fills
from engine.config import FillsConfig, ModelConfig
from engine.fills import CHUNK, smooth_fills
from engine.pipeline import Engine
from engine.request import GenerateRequest

SIDE = 32


def _iris(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A (1, S, S, 3) picture in [-1, 1]: a mottled teal fill (noise 0.03 of [0, 1]) on white,
    with a dark ring around it and a 2 px white highlight in it; and a region of all of it."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[:SIDE, :SIDE]
    distance = np.hypot(xs - SIDE / 2, ys - SIDE / 2)
    picture = np.ones((SIDE, SIDE, 3), np.float32)
    fill = distance < 10
    picture[fill] = (0.2, 0.6, 0.6)
    picture[fill] += rng.normal(0, 0.03, (int(fill.sum()), 3))
    picture[(distance >= 10) & (distance < 12)] = 0.05
    picture[13:15, 13:15] = 1.0
    return picture[None] * 2 - 1, np.ones((1, SIDE, SIDE, 1), np.float32)


def _mottle(images: np.ndarray, where: np.ndarray) -> float:
    """Mean |step| to the right neighbour inside `where` (S, S - 1)."""
    return float(np.abs(np.diff(images[0], axis=1)).max(-1)[where].mean())


def test_smoothing_evens_out_a_mottled_fill_and_keeps_its_edges():
    images, region = _iris()
    smoothed = smooth_fills(images, region, passes=3, colour_sigma=0.1)
    ys, xs = np.mgrid[:SIDE, : SIDE - 1]
    inner = np.hypot(xs - SIDE / 2, ys - SIDE / 2) < 7
    inner[12:16, 11:16] = False  # the highlight's own edges
    assert _mottle(smoothed, inner) < 0.4 * _mottle(images, inner)
    # The ring, the white outside it and the highlight: steps far above the colour sigma.
    for row, column in [(SIDE // 2, 5), (2, 2), (13, 13), (14, 14)]:
        np.testing.assert_allclose(smoothed[0, row, column], images[0, row, column], atol=0.02)


def test_nothing_outside_the_region_changes_or_bleeds_in():
    images, _ = _iris()
    region = np.zeros((1, SIDE, SIDE, 1), np.float32)
    region[:, 8:24, 8:24] = 1
    inside = region[0, ..., 0] > 0
    results = []
    for seed in (1, 2):  # two different backgrounds of constant noise
        noise = np.random.default_rng(seed).normal(0, 1, images.shape)
        noisy = np.where(region > 0, images, noise).astype(np.float32)
        smoothed = smooth_fills(noisy, region, passes=4, colour_sigma=1.0)
        np.testing.assert_array_equal(smoothed[0][~inside], noisy[0][~inside])
        results.append(smoothed[0][inside])
    np.testing.assert_allclose(results[0], results[1], atol=1e-6)


def test_a_batch_longer_than_a_chunk_smooths_each_image_as_alone():
    pictures = [_iris(seed) for seed in range(CHUNK + 1)]
    images = np.concatenate([picture for picture, _ in pictures])
    regions = np.concatenate([region for _, region in pictures])
    together = smooth_fills(images, regions, passes=2, colour_sigma=0.1)
    for index, (picture, region) in enumerate(pictures):
        alone = smooth_fills(picture, region, passes=2, colour_sigma=0.1)
        np.testing.assert_allclose(together[index], alone[0], atol=1e-6)


def test_without_xla_the_plain_pass_gives_the_same_images(monkeypatch):
    images, region = _iris()
    compiled = smooth_fills(images, region, passes=2, colour_sigma=0.1)

    def no_xla(*_):
        raise tf.errors.UnimplementedError(None, None, "XLA is not in this TensorFlow build")

    monkeypatch.setattr(fills, "_compiled_pass", no_xla)
    np.testing.assert_allclose(smooth_fills(images, region, 2, 0.1), compiled, atol=1e-5)
    assert fills._compiled_pass is None  # not tried again


def test_no_passes_leaves_the_images_as_they_are():
    images, region = _iris()
    np.testing.assert_array_equal(smooth_fills(images, region, 0, 0.1), images)


def test_models_saved_before_clean_fills_do_not_smooth(tiny_config):
    document = tiny_config.to_dict()
    del document["fills"]
    assert ModelConfig.from_dict(document).fills == FillsConfig(smoothing_passes=0)


def test_the_engine_cleans_its_variants_fills_inside_their_region(tiny_model_dir, circle_sketch):
    plain = Engine.load(tiny_model_dir, precision="float32")
    config = dataclasses.replace(plain.config, fills=FillsConfig(smoothing_passes=3))
    cleaned = Engine(plain.network, config, plain.name, plain.precision)
    request = GenerateRequest(sketch=circle_sketch, count=2, seed=4, upscale=False)
    prepared = plain.prepare(request)
    raw = plain.denoise([prepared])[0]
    smooth = cleaned.denoise([cleaned.prepare(request)])[0]
    inside = prepared.region[0, :, :-1, 0] > 0
    assert _mottle(smooth[:1], inside) < 0.8 * _mottle(raw[:1], inside)
    outside = prepared.region[0, ..., 0] == 0
    np.testing.assert_array_equal(smooth[:, outside], raw[:, outside])


def test_a_request_can_leave_the_fills_as_drawn_and_is_stacked_apart(tiny_model_dir, circle_sketch):
    plain = Engine.load(tiny_model_dir, precision="float32")
    config = dataclasses.replace(plain.config, fills=FillsConfig(smoothing_passes=3))
    cleaned = Engine(plain.network, config, plain.name, plain.precision)
    request = GenerateRequest(sketch=circle_sketch, count=2, seed=4, upscale=False)
    as_drawn = dataclasses.replace(request, clean_fills=False)
    raw = plain.denoise([plain.prepare(request)])[0]
    np.testing.assert_array_equal(cleaned.denoise([cleaned.prepare(as_drawn)])[0], raw)
    assert not np.array_equal(cleaned.denoise([cleaned.prepare(request)])[0], raw)
    # A studio's batch denoises the two in separate stacks, each finished its own way.
    assert cleaned.prepare(request).stack_key != cleaned.prepare(as_drawn).stack_key
