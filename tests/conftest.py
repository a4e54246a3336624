"""Shared fixtures: a tiny real model (untrained, but a real Keras U-Net) and sketches."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from engine.config import ModelConfig, NetworkConfig, TrainConfig  # noqa: E402
from engine.upscaler.config import (  # noqa: E402
    UpscalerConfig,
    UpscalerNetworkConfig,
    UpscalerTrainConfig,
)

TINY_CONFIG = ModelConfig(
    network=NetworkConfig(
        image_size=32, patch_size=2, widths=(8, 16), block_depth=1, embedding_dims=8
    ),
    train=TrainConfig(steps=4, batch_size=4, data="procedural:8"),
)

# A tiny upsampling stage: x4 per cell, trained (in tests) on 64-96 px drawings.
TINY_UPSCALER = UpscalerConfig(
    network=UpscalerNetworkConfig(factor=4, width=8, blocks=1, ladder=(4,), refine_width=4),
    train=UpscalerTrainConfig(
        steps=3,
        batch_size=2,
        crop_cells=8,
        min_side=64,
        max_side=96,
        low_size=32,  # the tiny model's size: the stage is fed its images
        data="procedural:2+2",
    ),
)


def draw_circle_sketch(width: int = 96, height: int = 80, radius: int = 20) -> np.ndarray:
    """A transparent RGBA canvas with one dark ring, like a stroke on a Krita layer."""
    sketch = np.zeros((height, width, 4), np.uint8)
    ys, xs = np.mgrid[:height, :width]
    distance = np.hypot(xs - width / 2, ys - height / 2)
    ring = np.abs(distance - radius) < 1.5
    sketch[ring] = (20, 20, 20, 255)
    return sketch


@pytest.fixture(scope="session")
def tiny_config() -> ModelConfig:
    """The tiny model's config (a fixture: test modules cannot import conftest reliably)."""
    return TINY_CONFIG


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A folder holding a tiny real model saved the way training saves one."""
    from engine.model import build_network
    from engine.weights import save_model

    model_dir = tmp_path_factory.mktemp("tiny-model")
    network = build_network(TINY_CONFIG.network)
    # Random (not zero) trained weights, so the tiny model's images depend on its inputs.
    rng = np.random.default_rng(0)
    for weight in network.trainable_weights:
        weight.assign(rng.normal(0, 0.3, weight.shape).astype(np.float32))
    save_model(network, TINY_CONFIG, model_dir, {"trained_steps": 0, "note": "tiny test model"})
    return model_dir


@pytest.fixture(scope="session")
def tiny_upscaler_config() -> UpscalerConfig:
    """The tiny upsampling stage's config."""
    return TINY_UPSCALER


@pytest.fixture(scope="session")
def tiny_two_stage_dir(tiny_model_dir, tmp_path_factory):
    """The tiny model folder plus a tiny real upsampling stage with random weights."""
    import shutil

    from engine.upscaler.network import build_upscaler
    from engine.weights import UPSCALER_DIR, UPSCALER_FORMAT, save_model

    model_dir = tmp_path_factory.mktemp("tiny-two-stage") / "two-stage"
    shutil.copytree(tiny_model_dir, model_dir)
    network = build_upscaler(TINY_UPSCALER.network)
    rng = np.random.default_rng(1)
    for weight in network.trainable_weights:
        weight.assign(rng.normal(0, 0.1, weight.shape).astype(np.float32))
    provenance = {"trained_steps": 0, "note": "tiny test upscaler"}
    save_model(network, TINY_UPSCALER, model_dir / UPSCALER_DIR, provenance, UPSCALER_FORMAT)
    return model_dir


@pytest.fixture(scope="session")
def tiny_engine(tiny_model_dir):
    """An Engine with the tiny real model loaded."""
    from engine.pipeline import Engine

    return Engine.load(tiny_model_dir)


@pytest.fixture
def circle_sketch() -> np.ndarray:
    """A 96x80 RGBA sketch of a ring."""
    return draw_circle_sketch()
