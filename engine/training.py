"""Training a model's two stages: the one path of `python -m engine train`, the server's trainings
and the teaching measurement.

Callers describe a run with TrainOptions; progress goes out through a between-steps callback (which
may also pause or cancel the run), one-line reports through `report` and each step's progress line
through `step_report`, so nothing here prints: the server must not write on the terminal it was
started from.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.config import ModelConfig
from engine.errors import EngineError
from engine.progress import BetweenSteps

log = logging.getLogger("engine.training")

# Fine-tuning the upsampler on an artist's drawings: enough to take on a style's line quality.
FINE_TUNE_STEPS = 300
STAGES = ("both", "diffusion", "upscaler")

# Receives one line about the run (what is trained on, how long a stage took).
Report = Callable[[str], None]


def _discard(text: str) -> None:
    """A step_report for callers that follow the steps through between_steps instead."""


@dataclass(frozen=True)
class TrainOptions:
    """What to train on, where to write and how (the `train` command's options, by name)."""

    data_dir: Path | None  # folder of drawings; None with `procedural`
    out: Path  # model folder to write (its checkpoints make a rerun resume)
    from_dir: Path | None = None  # model folder to fine-tune
    stage: str = "both"  # one of STAGES
    steps: int | None = None  # diffusion steps; None: the config's
    upscaler_steps: int | None = None  # upsampler steps; None: FINE_TUNE_STEPS when fine-tuning
    batch_size: int | None = None  # diffusion images per step; None: the config's
    learning_rate: float | None = None  # diffusion peak learning rate; None: the config's
    procedural: int | None = None  # train on this many procedural eyes instead of data_dir
    recipe: str = "mask"  # "mask" (the paper's) or "full" (ordinary full-image noise)
    colour_hint: bool = False  # add the colour hint input (a model fine-tuned from one keeps it)
    prediction: str | None = None  # "x0" or "v"; None: the model fine-tuned from's
    colour_weight: float | None = None  # extra loss weight per unit of chroma; None: the model's
    colour_reach: int | None = None  # px to take the strongest chroma over; None: the model's
    distilled_guidance: float | None = None  # learn --from's guided drawings; None: the drawings
    sketch_start: float | None = None  # share of examples started from the sketch; None: model's
    seed: int = 0  # seed of every random choice
    checkpoint_every: int = 250  # steps between checkpoints


def train_model(
    options: TrainOptions,
    between_steps: BetweenSteps | None = None,
    report: Report = log.info,
    step_report: Report = _discard,
) -> None:
    """Train the stages `options.stage` names, diffusion first (the upsampler learns from it).

    step_report: the trainers' progress text ("\rstep 10/300  loss ...", redrawn in a terminal:
    engine.trainer.progress_line writes it so).
    """
    if options.stage in ("both", "diffusion"):
        _train_diffusion(options, between_steps, report, step_report)
    if options.stage in ("both", "upscaler"):
        _train_upscaler(options, between_steps, report, step_report)


def _train_diffusion(
    options: TrainOptions, between_steps: BetweenSteps | None, report: Report, step_report: Report
) -> None:
    from engine.train import config_for, prepare_training_set, train, with_palette
    from engine.weights import read_model_document

    overrides: dict[str, Any] = {"recipe": options.recipe, "seed": options.seed}
    for name in (
        "steps",
        "batch_size",
        "learning_rate",
        "colour_weight",
        "colour_reach",
        "sketch_start",
    ):
        if getattr(options, name) is not None:
            overrides[name] = getattr(options, name)
    # Not inherited: fine-tuning a distilled model on drawings must not distil it once more.
    overrides["distilled_guidance"] = options.distilled_guidance or 1.0
    if options.procedural is not None:
        overrides["data"] = f"procedural:{options.procedural}"
    else:
        overrides["data"] = str(options.data_dir)

    base = ModelConfig()
    if options.from_dir is not None:
        # Fine-tuning keeps the network, schedule and constant noise of the model it starts from.
        base = ModelConfig.from_dict(read_model_document(options.from_dir)["config"])
    network = base.network
    if options.colour_hint:
        network = dataclasses.replace(network, colour_hint=True)
    if options.prediction is not None:
        network = dataclasses.replace(network, prediction=options.prediction)
    base = dataclasses.replace(base, network=network)
    config = config_for(base, **overrides)
    size = config.network.image_size
    if options.procedural is not None:
        from engine.data.procedural import TRAIN_SEED, make_eyes

        drawings, sketches = make_eyes(options.procedural, TRAIN_SEED, size)
    else:
        from engine.data.folder import load_folder

        drawings, sketches = load_folder(_drawings_dir(options), size)
    report(f"diffusion stage: {len(drawings)} drawings at {size} px")
    config = with_palette(config, drawings)
    data = prepare_training_set(drawings, sketches)
    trainer = train(
        config,
        data,
        options.out,
        options.from_dir,
        options.checkpoint_every,
        report=step_report,
        between_steps=between_steps,
    )
    report(f"diffusion stage: {trainer.step} steps, {trainer.elapsed / 60:.1f} min")


def _train_upscaler(
    options: TrainOptions, between_steps: BetweenSteps | None, report: Report, step_report: Report
) -> None:
    from engine.upscaler.config import UpscalerConfig
    from engine.upscaler.data import folder_drawings, procedural_drawings
    from engine.upscaler.train import train_upscaler
    from engine.weights import UPSCALER_DIR, has_upscaler, read_model_document

    base = UpscalerConfig()
    from_dir = options.from_dir
    if from_dir is not None and not has_upscaler(from_dir):
        from_dir = None
    if from_dir is not None:
        document = read_model_document(from_dir / UPSCALER_DIR, UpscalerConfig.from_dict)
        base = UpscalerConfig.from_dict(document["config"])
    overrides: dict[str, Any] = {"seed": options.seed}
    if options.upscaler_steps is not None:
        overrides["steps"] = options.upscaler_steps
    elif from_dir is not None:
        overrides["steps"] = FINE_TUNE_STEPS
    if options.procedural is None:
        overrides["data"] = str(options.data_dir)
    config = dataclasses.replace(base, train=dataclasses.replace(base.train, **overrides))
    factor = config.network.factor
    if options.procedural is not None:
        eyes, shapes = (int(n) for n in config.train.data.split(":")[1].split("+"))
        drawings = procedural_drawings(eyes, shapes, config.train, factor, options.seed)
    else:
        drawings = folder_drawings(_drawings_dir(options), config.train, factor)
    report(f"upscaling stage: {len(drawings)} drawings at full size")
    if config.train.stage_one_share > 0 and config.train.stage_one_per_drawing > 0:
        drawings = _with_stage_one(drawings, config.train, options, report)
    trainer = train_upscaler(
        config,
        drawings,
        Path(options.out) / UPSCALER_DIR,
        from_dir,
        options.checkpoint_every,
        report=step_report,
        between_steps=between_steps,
    )
    report(f"upscaling stage: {trainer.step} steps, {trainer.elapsed / 60:.1f} min")


def _drawings_dir(options: TrainOptions) -> Path:
    if options.data_dir is None:
        raise EngineError("nothing to train on: give a folder of drawings or procedural eyes")
    return options.data_dir


def _with_stage_one(
    drawings: list, train_config: Any, options: TrainOptions, report: Report
) -> list:
    """The drawings with stage 1's re-drawings: of the model just trained into `out`, else of
    the one fine-tuned from, else of the shipped one (the stage will serve that model)."""
    from engine.paths import DEFAULT_MODEL_DIR
    from engine.upscaler.stage_one import with_stage_one_guesses
    from engine.weights import has_model, load_model

    source = next(
        folder
        for folder in (Path(options.out), options.from_dir, DEFAULT_MODEL_DIR)
        if folder is not None and has_model(Path(folder))
    )
    network, model_config = load_model(Path(source))
    if model_config.network.image_size != train_config.low_size:
        report(
            f"upscaling stage: {source} makes {model_config.network.image_size} px images but the "
            f"stage takes {train_config.low_size} px: trained without stage-1 re-drawings"
        )
        return drawings
    count = train_config.stage_one_per_drawing
    report(f"upscaling stage: {count} stage-1 re-drawings each, by {source}")
    return with_stage_one_guesses(drawings, network, model_config, train_config, options.seed)
