"""The velocity parameterisation: the noisy image's colours pass through where the mask is."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.config import ModelConfig
from engine.data.procedural import TRAIN_SEED, make_eyes
from engine.errors import EngineError
from engine.model import build_network, denoise
from engine.train import Trainer, prepare_training_set
from engine.weights import load_model


def _inputs(noise_rate: float):
    rng = np.random.default_rng(0)
    images = rng.normal(size=(2, 32, 32, 3)).astype(np.float32)
    masks = np.zeros((2, 32, 32, 1), np.float32)
    masks[:, :16] = 1.0
    rates = np.full((2, 1, 1, 1), noise_rate, np.float32)
    return images, masks, rates


@pytest.fixture(scope="module")
def v_config(tiny_config) -> ModelConfig:
    return dataclasses.replace(
        tiny_config, network=dataclasses.replace(tiny_config.network, prediction="v")
    )


def test_a_velocity_network_turns_its_output_into_the_clean_image(v_config):
    network = build_network(v_config.network)
    rng = np.random.default_rng(1)
    for weight in network.trainable_weights:
        weight.assign(rng.normal(0, 0.3, weight.shape).astype(np.float32))
    images, masks, rates = _inputs(0.6)
    predicted = denoise(network, images, masks, rates).numpy()
    velocity = network.get_layer("pred_images").output
    raw = type(network)(network.inputs, velocity)([images, masks, rates**2]).numpy()
    inside = masks[..., 0] == 1
    np.testing.assert_allclose(
        predicted[inside], (0.8 * images - 0.6 * raw)[inside], rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(predicted[~inside], raw[~inside], rtol=1e-6)


def test_the_prediction_is_checked_and_old_configs_predict_the_image(v_config):
    data = v_config.to_dict()
    assert ModelConfig.from_dict(data) == v_config
    del data["network"]["prediction"]
    assert ModelConfig.from_dict(data).network.prediction == "x0"
    data["network"]["prediction"] = "eps"
    with pytest.raises(EngineError, match="network.prediction must be x0 or v"):
        ModelConfig.from_dict(data)


def test_fine_tuning_an_image_model_to_velocity_starts_its_last_layer_anew(
    tiny_model_dir, v_config, tmp_path
):
    drawings, sketches = make_eyes(4, TRAIN_SEED, 32)
    trainer = Trainer(v_config, prepare_training_set(drawings, sketches), tmp_path)
    trainer.start_from(tiny_model_dir)
    old = load_model(tiny_model_dir)[0]

    def weighted(network):
        return [layer for layer in network.layers if layer.weights]

    for before, after in zip(weighted(old), weighted(trainer.network), strict=True):
        for a, b in zip(before.get_weights(), after.get_weights(), strict=True):
            if before.name == "pred_images":
                assert not b.any()  # the head starts from zero
            else:
                np.testing.assert_array_equal(a, b)
    images, masks, rates = _inputs(0.6)
    predicted = denoise(trainer.network, images, masks, rates).numpy()
    inside = masks[..., 0] == 1
    # v = 0 everywhere: the noisy image scaled by the signal rate inside the mask, 0 outside.
    np.testing.assert_allclose(predicted[inside], 0.8 * images[inside], rtol=1e-5, atol=1e-6)
    assert not predicted[~inside].any()


def test_velocity_losses_weigh_each_masked_pixel_by_its_scale_in_the_image(tiny_config, v_config):
    from engine.train import loss_weights

    masks = np.zeros((2, 4, 4, 1), np.float32)
    masks[:, :2] = 1.0
    rates = np.array([0.5, 0.25], np.float32).reshape(2, 1, 1, 1)
    grey = np.zeros((2, 4, 4, 3), np.float32)
    assert np.all(loss_weights(masks, rates, grey, tiny_config) == 1.0)
    weights = loss_weights(masks, rates, grey, v_config)
    assert np.all(weights[0, :2] == 4.0) and np.all(weights[1, :2] == 16.0)
    assert np.all(weights[:, 2:] == 1.0)
    coloured = grey.copy()
    coloured[..., 0] = 1.0  # chroma 1 in [-1, 1]: half the way from grey to pure red
    config = dataclasses.replace(
        v_config, train=dataclasses.replace(v_config.train, colour_weight=4.0)
    )
    np.testing.assert_allclose(loss_weights(masks, rates, coloured, config), 3.0 * weights)
    coloured = grey.copy()
    coloured[..., 0] = 1.0  # chroma 1 in [-1, 1]: half the way from grey to pure red
    config = dataclasses.replace(
        v_config, train=dataclasses.replace(v_config.train, colour_weight=4.0)
    )
    np.testing.assert_allclose(loss_weights(masks, rates, coloured, config), 3.0 * weights)
