"""Typed configuration of a model: everything needed to rebuild it travels in its weights' JSON."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class NetworkConfig:
    """Shape of the U-Net."""

    image_size: int = 64  # side of the square images the network sees, in pixels
    patch_size: int = 2  # the stem turns patch_size x patch_size pixel patches into one position
    widths: tuple[int, ...] = (48, 96, 128)  # channels per resolution level, finest first
    block_depth: int = 2  # residual blocks per level on each side of the U
    embedding_dims: int = 32  # size of the sinusoidal noise-level embedding


@dataclass(frozen=True)
class ScheduleConfig:
    """The variance-preserving schedule: signal_rate = cos(angle), noise_rate = sin(angle)."""

    levels: int = 16  # the paper's noise levels: 0 = pure noise ... levels-1 = weakest noise
    min_signal_rate: float = 0.02  # signal left at level 0 (t = 1): the picture is gone
    max_signal_rate: float = 0.95  # signal at t = 0, below the weakest level


@dataclass(frozen=True)
class NoiseConfig:
    """The constant-noise background of the paper: one fixed field, the same in training and use."""

    constant_seed: int = 20240607  # seed of the field (NumPy PCG64, stable across versions)
    constant_intensity: float = 1.0  # scale of the uniform field; 1.0 = unit variance like N(0, 1)


@dataclass(frozen=True)
class TrainConfig:
    """The training recipe; `mask` is the paper's method, `full` the ordinary baseline."""

    recipe: str = "mask"  # "mask": noise masks of random radius; "full": full-image noise only
    steps: int = 3500  # optimiser steps
    batch_size: int = 32  # images per step
    learning_rate: float = 1e-3  # AdamW peak learning rate (cosine decay to 10%)
    weight_decay: float = 1e-4  # AdamW weight decay
    ema: float = 0.999  # decay of the weights' moving average used for generation
    radius_min: int = 2  # smallest mask radius drawn in training (pixels at image_size)
    radius_max: int = 11  # largest mask radius drawn in training
    full_mask_fraction: float = 0.3  # share of examples noised over the whole image (baselines)
    seed: int = 0  # seed of every random choice in training
    data: str = "procedural:4000"  # "procedural:N" or a folder path the drawings came from


@dataclass(frozen=True)
class ModelConfig:
    """Everything that defines a trained model; saved as JSON next to its weights."""

    network: NetworkConfig = field(default_factory=NetworkConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Rebuild from `to_dict` output; unknown keys are an error, so typos do not pass."""
        network = dict(data["network"])
        network["widths"] = tuple(network["widths"])
        return cls(
            network=NetworkConfig(**network),
            schedule=ScheduleConfig(**data["schedule"]),
            noise=NoiseConfig(**data["noise"]),
            train=TrainConfig(**data["train"]),
        )
