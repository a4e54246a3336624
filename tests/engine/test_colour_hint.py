"""The colour hint end to end: config, network, training batches, fine-tuning and generation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.config import ModelConfig
from engine.data.procedural import TRAIN_SEED, make_eyes
from engine.diffusion.noise import constant_noise
from engine.errors import EngineError
from engine.model import build_network, denoise, takes_hint, transfer_weights
from engine.request import GenerateRequest
from engine.train import Trainer, make_batch, prepare_training_set
from engine.weights import load_model, save_model


def _inputs(count: int = 2, size: int = 32):
    rng = np.random.default_rng(0)
    images = rng.normal(size=(count, size, size, 3)).astype(np.float32)
    masks = np.ones((count, size, size, 1), np.float32)
    rates = np.full((count, 1, 1, 1), 0.7, np.float32)
    return images, masks, rates


def test_palette_is_saved_in_the_config_and_old_configs_load_without_one(hinted_config):
    assert hinted_config.colour.palette and len(hinted_config.colour.palette) % 3 == 0
    assert ModelConfig.from_dict(hinted_config.to_dict()) == hinted_config
    old = hinted_config.to_dict()
    del old["colour"]
    del old["network"]["colour_hint"]
    parsed = ModelConfig.from_dict(old)
    assert not parsed.network.colour_hint and parsed.colour.palette == ()


def test_a_hint_network_starts_where_the_plain_one_stood(tiny_config, hinted_config):
    plain = build_network(tiny_config.network)
    hinted = build_network(hinted_config.network)
    assert not takes_hint(plain) and takes_hint(hinted)
    transfer_weights(plain, hinted)
    images, masks, rates = _inputs()
    hints = np.zeros((2, 1, 1, 4), np.float32)
    hints[:, 0, 0] = [1.0, -1.0, -1.0, 1.0]
    expected = denoise(plain, images, masks, rates).numpy()
    np.testing.assert_array_equal(denoise(hinted, images, masks, rates, hints).numpy(), expected)
    with pytest.raises(ValueError, match="do not match"):
        transfer_weights(
            build_network(dataclasses.replace(tiny_config.network, widths=(8,))), hinted
        )


def test_batches_carry_each_drawings_colour_or_no_hint(hinted_config):
    drawings, sketches = make_eyes(6, TRAIN_SEED, 32)
    data = prepare_training_set(drawings, sketches)
    assert data.hints.shape == (6, 1, 1, 4) and np.all(data.hints[:, 0, 0, 3] == 1.0)
    config = dataclasses.replace(
        hinted_config,
        train=dataclasses.replace(hinted_config.train, batch_size=64),
        colour=dataclasses.replace(hinted_config.colour, hint_dropout=0.5),
    )
    constant = constant_noise(config.noise, 32)
    batch = make_batch(data, config, constant, np.random.default_rng(0))
    flags = batch.hints[:, 0, 0, 3]
    assert set(np.unique(flags)) == {0.0, 1.0} and 0.25 < flags.mean() < 0.75
    assert not batch.hints[flags == 0].any()  # no hint: all zeros


def test_fine_tuning_a_plain_model_with_the_hint(tiny_model_dir, hinted_config, tmp_path):
    drawings, sketches = make_eyes(6, TRAIN_SEED, 32)
    trainer = Trainer(hinted_config, prepare_training_set(drawings, sketches), tmp_path)
    trainer.start_from(tiny_model_dir)
    plain = load_model(tiny_model_dir)[0]
    images, masks, rates = _inputs()
    np.testing.assert_allclose(
        denoise(trainer.network, images, masks, rates).numpy(),
        denoise(plain, images, masks, rates).numpy(),
        atol=1e-5,
    )
    trainer.run_step()
    trainer.save_checkpoint(0.0)
    network, config = load_model(tmp_path)
    assert takes_hint(network) and config.colour.palette == hinted_config.colour.palette


def test_a_hinted_model_cannot_be_fine_tuned_without_the_hint(tiny_config, hinted_engine, tmp_path):
    drawings, sketches = make_eyes(4, TRAIN_SEED, 32)
    trainer = Trainer(tiny_config, prepare_training_set(drawings, sketches), tmp_path)
    folder = tmp_path / "hinted"
    save_model(hinted_engine.network, hinted_engine.config, folder, {"trained_steps": 0})
    with pytest.raises(EngineError, match="takes a colour hint"):
        trainer.start_from(folder)


def test_variants_follow_the_requested_colour_and_the_seed_picks_a_palette_one(
    hinted_engine, circle_sketch
):
    def images(**options) -> list[np.ndarray]:
        request = GenerateRequest(sketch=circle_sketch, count=2, upscale=False, **options)
        return [variant.patch for variant in hinted_engine.generate(request).variants]

    red, blue = images(colour="#ff0000"), images(colour="#0000ff")
    assert not np.array_equal(red[0], blue[0])
    np.testing.assert_array_equal(images(), images())  # palette colours are the seeds' own
    hints = hinted_engine.hints(GenerateRequest(sketch=circle_sketch, count=3), [0, 1, 2])
    palette = np.asarray(hinted_engine.config.colour.palette).reshape(-1, 3) / 255 * 2 - 1
    for hint in hints[:, 0, 0]:
        assert hint[3] == 1.0 and np.abs(palette - hint[:3]).sum(1).min() < 1e-5
    assert hinted_engine.info["colour_hint"] is True


def test_a_plain_model_ignores_the_colour(tiny_engine, circle_sketch):
    def patch(colour):
        request = GenerateRequest(sketch=circle_sketch, count=1, upscale=False, colour=colour)
        return tiny_engine.generate(request).variants[0].patch

    np.testing.assert_array_equal(patch("#ff0000"), patch(None))


@pytest.mark.parametrize("colour", ["red", "#12345", 7])
def test_a_bad_colour_is_refused_in_one_line(circle_sketch, colour):
    with pytest.raises(EngineError, match="colour"):
        GenerateRequest(sketch=circle_sketch, colour=colour)
