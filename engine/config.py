"""Typed configuration of a model: everything needed to rebuild it travels in its weights' JSON."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, TypeVar

from engine.errors import EngineError

Section = TypeVar("Section")
PREDICTIONS = ("x0", "v")
SOLVERS = ("ddim", "dpm++2m")  # engine.diffusion.sampler's solvers
COLOUR_REACH_RANGE = (0, 8)  # pixels, TrainConfig.colour_reach


@dataclass(frozen=True)
class NetworkConfig:
    """Shape of the U-Net."""

    image_size: int = 64  # side of the square images the network sees, in pixels
    patch_size: int = 2  # the stem turns patch_size x patch_size pixel patches into one position
    widths: tuple[int, ...] = (48, 96, 128)  # channels per resolution level, finest first
    block_depth: int = 2  # residual blocks per level on each side of the U
    embedding_dims: int = 32  # size of the sinusoidal noise-level embedding
    # True: the network also takes a colour hint, the main colour to paint in (engine.colour);
    # models saved before it have none and rebuild without that input.
    colour_hint: bool = False
    # What the network's last layer predicts where the mask is: "x0", the clean image itself, or
    # "v", the velocity (Salimans & Ho 2022), turned into the clean image inside the model as
    # signal * noisy - noise * v: the noisy image's own colours pass through at low noise
    # instead of being redrawn by the whole U-Net. Outside the mask it always predicts x0.
    prediction: str = "x0"


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
    # Extra loss weight of a pixel per unit of its target's chroma (max - min channel, 0..1):
    # colour is a few percent of the pixels, and an unweighted L2 lets the network paint it grey.
    colour_weight: float = 0.0
    # Pixels: a pixel is weighed by the strongest chroma within this distance, not its own, so a
    # white highlight or a black pupil inside a coloured iris weighs as much as the iris around
    # it (at 0 they weigh 1 + 0, the iris 1 + colour_weight * its chroma: painted over).
    colour_reach: int = 0
    # 1: trained on the drawings. Above 1: taught to draw in one network call what the model it
    # was fine-tuned from draws under colour guidance this strong (engine.train.GuidanceDistiller).
    distilled_guidance: float = 1.0
    # Share of the masked examples that start as generation does below pure noise: the sketch's
    # mask_guide noised to a level in SKETCH_START_TIMES, the drawing the target. Otherwise the
    # network first meets a sketch's faint lines when an artist generates, and paints the
    # pupil's outline as a ring where the drawings have a solid pupil.
    sketch_start: float = 0.0
    seed: int = 0  # seed of every random choice in training
    data: str = "procedural:4000"  # "procedural:N" or a folder path the drawings came from


@dataclass(frozen=True)
class ColourConfig:
    """The colour hint's training and its palette: where variants without a hint get one."""

    # Share of training examples shown no hint, so the network also draws without one.
    hint_dropout: float = 0.15
    # Main colours of the training drawings as flat R, G, B triples (0-255): a variant asked for
    # no particular colour draws one from here, seeded, so its colours are the style's own.
    palette: tuple[int, ...] = ()


@dataclass(frozen=True)
class SamplingConfig:
    """How the engine samples this model when a request names no step count."""

    # "ddim" (first order) or "dpm++2m" (second order, good at few steps): engine.diffusion.sampler.
    solver: str = "ddim"
    # Network evaluations per variant. Models saved before this section were measured at the
    # paper's 16 levels with DDIM, and keep sampling that way.
    steps: int = 16
    # Spacing of the steps' times (engine.diffusion.schedule.sampling_times): 1 = even, as the
    # paper's levels; above 1, more of the steps at high noise, where the variety forms.
    time_power: float = 1.0
    # Classifier-free guidance on the colour hint (Ho & Salimans 2022): each step's prediction
    # is pushed from the hint-less one through the hinted one by this factor. 1 = no guidance
    # (one network call a step); above 1 the variants commit to their colour instead of
    # averaging the style's hues towards grey, at a second, hint-less call a step.
    colour_guidance: float = 1.0


@dataclass(frozen=True)
class FillsConfig:
    """Clean fills (engine.fills): the edge-preserving smoothing of stage 1's images."""

    # Bilateral passes over every variant before it is upsampled; 0 (models saved before this
    # section) leaves stage 1's paint as it is.
    smoothing_passes: int = 0
    # Colour steps well below this (in [0, 1] units) are evened out; edges well above it stay.
    colour_sigma: float = 0.1


# The paper's path: DDIM at its 16 evenly spaced levels. Models saved without a sampling section
# run it, and so does every request that names its own steps (at that count).
PAPER_SAMPLING = SamplingConfig()


@dataclass(frozen=True)
class ModelConfig:
    """Everything that defines a trained model; saved as JSON next to its weights."""

    network: NetworkConfig = field(default_factory=NetworkConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    colour: ColourConfig = field(default_factory=ColourConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    fills: FillsConfig = field(default_factory=FillsConfig)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Rebuild from `to_dict` output; EngineError names the first field that is wrong."""
        if not isinstance(data, dict):
            raise EngineError("config must be a JSON object")
        config = cls(
            network=parse_section(NetworkConfig, data, "network"),
            schedule=parse_section(ScheduleConfig, data, "schedule"),
            noise=parse_section(NoiseConfig, data, "noise"),
            train=parse_section(TrainConfig, data, "train"),
            # Models saved before the colour hint have no such section.
            colour=(
                parse_section(ColourConfig, data, "colour") if "colour" in data else ColourConfig()
            ),
            sampling=(
                parse_section(SamplingConfig, data, "sampling")
                if "sampling" in data
                else PAPER_SAMPLING
            ),
            fills=parse_section(FillsConfig, data, "fills") if "fills" in data else FillsConfig(),
        )
        network, schedule = config.network, config.schedule
        for name in ("image_size", "patch_size", "block_depth", "embedding_dims"):
            _require(getattr(network, name) >= 1, f"network.{name}", "must be at least 1")
        _require(
            network.widths != () and min(network.widths) >= 1,
            "network.widths",
            "must be a non-empty list of channel counts of at least 1",
        )
        _require(network.prediction in PREDICTIONS, "network.prediction", "must be x0 or v")
        _require(
            network.image_size % network.patch_size == 0,
            "network.image_size",
            "must be a multiple of network.patch_size",
        )
        _require(
            len(config.colour.palette) % 3 == 0
            and all(0 <= value <= 255 for value in config.colour.palette),
            "colour.palette",
            "must be R, G, B triples of 0 to 255",
        )
        _require(0 <= config.colour.hint_dropout <= 1, "colour.hint_dropout", "must be 0 to 1")
        _require(
            1 <= config.train.distilled_guidance <= 4, "train.distilled_guidance", "must be 1 to 4"
        )
        low, high = COLOUR_REACH_RANGE
        reach_ok = low <= config.train.colour_reach <= high
        _require(reach_ok, "train.colour_reach", f"must be {low} to {high}")
        _require(0 <= config.train.sketch_start <= 1, "train.sketch_start", "must be 0 to 1")
        _require(config.sampling.solver in SOLVERS, "sampling.solver", "must be ddim or dpm++2m")
        _require(1 <= config.sampling.steps <= 64, "sampling.steps", "must be 1 to 64")
        _require(1 <= config.sampling.time_power <= 4, "sampling.time_power", "must be 1 to 4")
        _require(
            1 <= config.sampling.colour_guidance <= 4,
            "sampling.colour_guidance",
            "must be 1 to 4",
        )
        _require(
            0 <= config.fills.smoothing_passes <= 8, "fills.smoothing_passes", "must be 0 to 8"
        )
        _require(
            0 < config.fills.colour_sigma <= 1, "fills.colour_sigma", "must be above 0, at most 1"
        )
        _require(schedule.levels >= 1, "schedule.levels", "must be at least 1")
        _require(
            0 < schedule.min_signal_rate < schedule.max_signal_rate < 1,
            "schedule.min_signal_rate",
            "and max_signal_rate must satisfy 0 < min < max < 1",
        )
        return config


def parse_section(cls: type[Section], data: dict[str, Any], name: str) -> Section:
    """The section `name` of a config dict, each value checked against its field's default type.

    Unknown keys are an error, so typos do not pass; missing keys take the field's default.
    """
    values = data.get(name)
    if not isinstance(values, dict):
        raise EngineError(f"config {name} must be an object of settings, got {values!r:.40}")
    defaults = cls()
    known = {item.name for item in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - known)
    if unknown:
        raise EngineError(f"config {name}.{unknown[0]!s:.40} is not a known setting")
    typed = {
        key: _typed(value, getattr(defaults, key), f"{name}.{key}") for key, value in values.items()
    }
    return cls(**typed)


def _typed(value: Any, default: Any, field_name: str) -> Any:
    # bool is an int in Python but never a valid count or size here.
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        kind = "true or false"
    elif isinstance(default, tuple):
        if isinstance(value, list | tuple) and all(
            isinstance(x, int) and not isinstance(x, bool) for x in value
        ):
            return tuple(value)
        kind = "a list of whole numbers"
    elif isinstance(default, int):
        if is_int:
            return value
        kind = "a whole number"
    elif isinstance(default, float):
        if (is_int or isinstance(value, float)) and math.isfinite(value):
            return float(value)
        kind = "a number"
    elif isinstance(value, str):
        return value
    else:
        kind = "a string"
    raise EngineError(f"config {field_name} must be {kind}, got {value!r:.40}")


def _require(condition: bool, field_name: str, rule: str) -> None:
    if not condition:
        raise EngineError(f"config {field_name} {rule}")
