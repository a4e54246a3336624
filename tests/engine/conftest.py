"""Fixtures of the engine's tests: a tiny real model with the colour hint."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.config import ModelConfig
from engine.data.procedural import TRAIN_SEED, make_eyes
from engine.model import build_network
from engine.train import with_palette
from engine.weights import save_model


@pytest.fixture(scope="session")
def hinted_config(tiny_config) -> ModelConfig:
    """The tiny config with the colour hint and a palette of procedural eyes."""
    network = dataclasses.replace(tiny_config.network, colour_hint=True)
    drawings = make_eyes(12, TRAIN_SEED, network.image_size)[0]
    return with_palette(dataclasses.replace(tiny_config, network=network), drawings)


@pytest.fixture(scope="session")
def hinted_model_dir(hinted_config, tmp_path_factory):
    """A folder holding a tiny real model with the colour hint and random weights."""
    network = build_network(hinted_config.network)
    rng = np.random.default_rng(2)
    for weight in network.trainable_weights:
        weight.assign(rng.normal(0, 0.3, weight.shape).astype(np.float32))
    folder = tmp_path_factory.mktemp("hinted")
    save_model(network, hinted_config, folder, {"trained_steps": 0, "note": "tiny hinted model"})
    return folder


@pytest.fixture(scope="session")
def hinted_engine(hinted_model_dir):
    """An Engine with the tiny hinted model loaded."""
    from engine.pipeline import Engine

    return Engine.load(hinted_model_dir)
