"""Typed configuration of the upsampling stage; it travels in the stage's config.json."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from engine.config import parse_section
from engine.errors import EngineError


@dataclass(frozen=True)
class UpscalerNetworkConfig:
    """Shape of the upsampler: a trunk on a grid of cells, a ladder of x2 rungs, a refinement."""

    factor: int = 8  # output pixels per grid cell, each side (the trunk works at 1/factor)
    width: int = 48  # channels of the trunk
    blocks: int = 4  # residual blocks (two 3x3 convolutions each) in the trunk
    # Channels of each x2 rung between the trunk and full resolution: an edge drawn 8-16x larger
    # than stage 1's pixels is placed in steps, each beside the sketch at that resolution.
    ladder: tuple[int, ...] = (32, 16)
    refine_width: int = 8  # channels of the full-resolution convolution next to the sketch


@dataclass(frozen=True)
class UpscalerTrainConfig:
    """The stage's training recipe: pairs of (degraded 64 px drawing, sketch) -> drawing."""

    steps: int = 8000  # optimiser steps
    batch_size: int = 12  # crops per step
    crop_cells: int = 24  # side of a training crop in grid cells (x factor pixels)
    learning_rate: float = 1e-3  # AdamW peak learning rate (cosine decay to 10%)
    weight_decay: float = 1e-4  # AdamW weight decay
    ema: float = 0.999  # decay of the weights' moving average used for generation
    edge_weight: float = 1.0  # weight of the L1 loss on image gradients next to plain L1
    # Weight of matching how steep the crop's steepest edges are (wherever they lie): where an
    # edge's place is uncertain, the per-pixel losses are lowest for a soft edge; this is not.
    # 2000 steps at 0.2 took 768 px variants from 0.79 to 1.03 of the sketch's line sharpness.
    steepness_weight: float = 0.2
    # The share of a crop's pixels whose gradients that term matches: 1 % is the lines' edges;
    # more takes in the fainter edges inside the paint (an iris's crescent, a shadow band's rim)
    # and, at 1, the flatness of the fills as well (the whole sorted distribution).
    steepest_share: float = 0.01
    low_size: int = 64  # side of the stage-1 images the stage is fed
    min_side: int = 512  # smallest output side rendered in training (pixels)
    max_side: int = 1024  # largest output side rendered in training
    blur_max: float = 0.8  # largest Gaussian blur of the 64 px input (sigma, 64 px pixels)
    noise_max: float = 0.04  # largest Gaussian noise added to the 64 px input ([-1, 1] range)
    shift_max: float = 0.75  # largest shift of the 64 px input against the sketch (64 px pixels)
    # Share of inputs that are stage 1's own re-drawings of the drawing (the flaws it must fix),
    # and how many re-drawings each drawing gets; 0 trains on degraded drawings only.
    stage_one_share: float = 0.5
    stage_one_per_drawing: int = 3
    # Share of the schedule each re-drawing re-runs, drawn between these: enough to show stage
    # 1's flaws, not so much that it draws another eye.
    stage_one_strength_min: float = 0.15
    stage_one_strength_max: float = 0.5
    # A re-drawing further from its drawing than this (mean |difference| in [-1, 1]) is a new
    # drawing, not a flawed copy: training on it would teach the stage to invent, so it is
    # dropped. Stage 1's eyes stay within 0.03-0.05 at strengths up to 0.5; a subject it does
    # not know (the shapes) turns into eye-like blobs at 0.08-0.2.
    stage_one_departure: float = 0.06
    # Share of drawings whose sketch gains construction strokes the drawing lacks
    # (engine.data.construction): the stage learns to draw a line only where stage 1 painted one.
    construction_share: float = 0.0
    # Largest blend of the 64 px input towards its 3 x 3 minimum: lines as dark and wide as
    # stage 1 paints them, against the drawing's thinner ones.
    thicken_max: float = 0.0
    # Largest strength of a smooth random colour field added to the 64 px input (blotches 3-8
    # px across, unit deviation times this): stage 1's mottled, streaky fills and its washes on
    # the paper, which the drawings' flat fills and white paper lack.
    mottle_max: float = 0.0
    seed: int = 0  # seed of every random choice in training
    data: str = "procedural:400+400"  # "procedural:EYES+SHAPES" or the drawings' folder


@dataclass(frozen=True)
class UpscalerConfig:
    """Everything that defines a trained upsampler; saved as JSON next to its weights."""

    network: UpscalerNetworkConfig = field(default_factory=UpscalerNetworkConfig)
    train: UpscalerTrainConfig = field(default_factory=UpscalerTrainConfig)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UpscalerConfig:
        """Rebuild from `to_dict` output; EngineError names the first field that is wrong."""
        if not isinstance(data, dict):
            raise EngineError("upscaler config must be a JSON object")
        section = data.get("network")
        if isinstance(section, dict) and "ladder" not in section:
            # Stages saved before the ladder existed went from the trunk to full size at once.
            section = {**section, "ladder": []}
        config = cls(
            network=parse_section(UpscalerNetworkConfig, {"network": section}, "network"),
            train=parse_section(UpscalerTrainConfig, data, "train"),
        )
        for name in ("factor", "width", "blocks", "refine_width"):
            if getattr(config.network, name) < 1:
                raise EngineError(f"config network.{name} must be at least 1")
        network = config.network
        if any(channels < 1 for channels in network.ladder):
            raise EngineError("config network.ladder must list channel counts of at least 1")
        if network.factor % 2 ** len(network.ladder):
            raise EngineError(
                f"config network.ladder: {len(network.ladder)} x2 rungs need a factor "
                f"divisible by {2 ** len(network.ladder)}, got {network.factor}"
            )
        for name in (
            "stage_one_share",
            "construction_share",
            "thicken_max",
            "mottle_max",
            "steepest_share",
            "stage_one_strength_min",
            "stage_one_strength_max",
        ):
            if not 0.0 <= getattr(config.train, name) <= 1.0:
                raise EngineError(f"config train.{name} must be between 0 and 1")
        if config.train.stage_one_strength_min > config.train.stage_one_strength_max:
            raise EngineError(
                "config train.stage_one_strength_min must not exceed stage_one_strength_max"
            )
        if config.train.stage_one_departure <= 0:
            raise EngineError("config train.stage_one_departure must be positive")
        if config.train.stage_one_per_drawing < 0:
            raise EngineError("config train.stage_one_per_drawing must not be negative")
        return config
