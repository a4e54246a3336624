"""A model folder round trip and what happens when it is missing or damaged."""

import json
import shutil

import numpy as np
import pytest

from engine.errors import EngineError
from engine.weights import CONFIG_FILE, WEIGHTS_FILE, load_model


def test_round_trip_restores_config_and_weights(tiny_model_dir, tiny_config):
    network, config = load_model(tiny_model_dir)
    assert config == tiny_config
    again, _ = load_model(tiny_model_dir)
    for a, b in zip(network.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_missing_model_folder_is_named(tmp_path):
    with pytest.raises(EngineError, match="config.json is missing"):
        load_model(tmp_path / "nowhere")


def test_corrupted_weights_are_detected(tiny_model_dir, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(tiny_model_dir, copy)
    weights = copy / WEIGHTS_FILE
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(EngineError, match="corrupted"):
        load_model(copy)


def test_malformed_config_is_named(tiny_model_dir, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(tiny_model_dir, copy)
    document = json.loads((copy / CONFIG_FILE).read_text())
    document["config"]["network"]["colour"] = "blue"
    (copy / CONFIG_FILE).write_text(json.dumps(document))
    with pytest.raises(EngineError, match="malformed"):
        load_model(copy)
