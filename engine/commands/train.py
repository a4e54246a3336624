"""`python -m engine train`: train or fine-tune a model's two stages."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from engine.config import ModelConfig
from engine.errors import EngineError
from engine.progress import BetweenSteps

# Fine-tuning the upsampler on an artist's drawings: enough to take on a style's line quality.
FINE_TUNE_STEPS = 300


HELP = "train a model on procedural eyes or a folder of drawings"
DESCRIPTION = "Train with the paper's noise-mask recipe; resumes from --out's checkpoint."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `train` options to an argument parser."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("data_dir", nargs="?", type=Path, help="folder of drawings (PNG/JPEG)")
    source.add_argument("--procedural", type=int, metavar="N", help="N procedural eye drawings")
    parser.add_argument("--out", type=Path, required=True, help="model folder to write")
    parser.add_argument("--from", dest="from_dir", type=Path, help="fine-tune this model folder")
    parser.add_argument(
        "--stage",
        choices=("both", "diffusion", "upscaler"),
        default="both",
        help="which stages to train: the 64 px diffusion model, the upsampler, or both",
    )
    parser.add_argument("--steps", type=int, default=None, help="optimiser steps (diffusion)")
    parser.add_argument(
        "--upscaler-steps", type=int, default=None, help="optimiser steps of the upsampler"
    )
    parser.add_argument("--batch-size", type=int, default=None, help="images per step (diffusion)")
    parser.add_argument(
        "--learning-rate", type=float, default=None, help="peak learning rate (diffusion)"
    )
    parser.add_argument(
        "--recipe",
        choices=("mask", "full"),
        default="mask",
        help="mask: the paper's method; full: ordinary full-image noise",
    )
    parser.add_argument(
        "--colour-hint",
        action="store_true",
        help="give the network a colour hint input (a model fine-tuned from one keeps it)",
    )
    parser.add_argument(
        "--prediction",
        choices=("x0", "v"),
        default=None,
        help="what the network predicts: the clean image or the velocity (default: the model "
        "fine-tuned from's, else x0)",
    )
    parser.add_argument(
        "--colour-weight",
        type=float,
        default=None,
        help="extra loss weight per unit of a pixel's chroma (default: the model's, else 0)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of every random choice")
    parser.add_argument("--checkpoint-every", type=int, default=250, help="steps between saves")


def run(args: argparse.Namespace) -> int:
    """Load the drawings, train the chosen stages, and say where the model is."""
    for name in ("steps", "upscaler_steps", "batch_size", "learning_rate", "procedural"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            raise EngineError(f"--{name.replace('_', '-')} must be positive, got {value}")
    if args.colour_weight is not None and args.colour_weight < 0:
        raise EngineError(f"--colour-weight must be 0 or more, got {args.colour_weight}")
    train_model(args)
    print(f"model written to {args.out}")
    return 0


def train_model(args: Any, between_steps: BetweenSteps | None = None) -> None:
    """Train the chosen stages: the one training path of this command and the engine server.

    args: this command's arguments, or an engine.teach.TrainOptions with the same names.
    """
    if args.stage in ("both", "diffusion"):
        _train_diffusion(args, between_steps)
    if args.stage in ("both", "upscaler"):
        _train_upscaler(args, between_steps)


def _train_diffusion(args: Any, between_steps: BetweenSteps | None) -> None:
    from engine.train import config_for, prepare_training_set, train, with_palette
    from engine.weights import read_model_document

    overrides = {"recipe": args.recipe, "seed": args.seed}
    for name in ("steps", "batch_size", "learning_rate", "colour_weight"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    if args.procedural is not None:
        overrides["data"] = f"procedural:{args.procedural}"
    else:
        overrides["data"] = str(args.data_dir)

    base = ModelConfig()
    if args.from_dir is not None:
        # Fine-tuning keeps the network, schedule and constant noise of the model it starts from.
        base = ModelConfig.from_dict(read_model_document(args.from_dir)["config"])
    network = base.network
    if args.colour_hint:
        network = dataclasses.replace(network, colour_hint=True)
    if args.prediction is not None:
        network = dataclasses.replace(network, prediction=args.prediction)
    base = dataclasses.replace(base, network=network)
    config = config_for(base, **overrides)
    size = config.network.image_size
    if args.procedural is not None:
        from engine.data.procedural import TRAIN_SEED, make_eyes

        drawings, sketches = make_eyes(args.procedural, TRAIN_SEED, size)
    else:
        from engine.data.folder import load_folder

        drawings, sketches = load_folder(args.data_dir, size)
    print(f"diffusion stage: {len(drawings)} drawings at {size} px", file=sys.stderr)
    config = with_palette(config, drawings)
    data = prepare_training_set(drawings, sketches)
    trainer = train(
        config, data, args.out, args.from_dir, args.checkpoint_every, between_steps=between_steps
    )
    print(f"diffusion stage: {trainer.step} steps, {trainer.elapsed / 60:.1f} min", file=sys.stderr)


def _train_upscaler(args: Any, between_steps: BetweenSteps | None) -> None:
    from engine.upscaler.config import UpscalerConfig
    from engine.upscaler.data import folder_drawings, procedural_drawings
    from engine.upscaler.train import train_upscaler
    from engine.weights import UPSCALER_DIR, has_upscaler, read_model_document

    base = UpscalerConfig()
    from_dir = args.from_dir if args.from_dir is not None and has_upscaler(args.from_dir) else None
    if from_dir is not None:
        document = read_model_document(from_dir / UPSCALER_DIR, UpscalerConfig.from_dict)
        base = UpscalerConfig.from_dict(document["config"])
    overrides = {"seed": args.seed}
    if args.upscaler_steps is not None:
        overrides["steps"] = args.upscaler_steps
    elif from_dir is not None:
        overrides["steps"] = FINE_TUNE_STEPS
    if args.procedural is None:
        overrides["data"] = str(args.data_dir)
    config = dataclasses.replace(base, train=dataclasses.replace(base.train, **overrides))
    factor = config.network.factor
    if args.procedural is not None:
        eyes, shapes = (int(n) for n in config.train.data.split(":")[1].split("+"))
        drawings = procedural_drawings(eyes, shapes, config.train, factor, args.seed)
    else:
        drawings = folder_drawings(args.data_dir, config.train, factor)
    print(f"upscaling stage: {len(drawings)} drawings at full size", file=sys.stderr)
    if config.train.stage_one_share > 0 and config.train.stage_one_per_drawing > 0:
        drawings = _with_stage_one(drawings, config.train, args)
    trainer = train_upscaler(
        config,
        drawings,
        Path(args.out) / UPSCALER_DIR,
        from_dir,
        args.checkpoint_every,
        between_steps=between_steps,
    )
    print(f"upscaling stage: {trainer.step} steps, {trainer.elapsed / 60:.1f} min", file=sys.stderr)


def _with_stage_one(drawings: list, train_config, args: argparse.Namespace) -> list:
    """The drawings with stage 1's re-drawings: of the model just trained into --out, else of
    the one fine-tuned from, else of the shipped one (the stage will serve that model)."""
    from engine.paths import DEFAULT_MODEL_DIR
    from engine.upscaler.stage_one import with_stage_one_guesses
    from engine.weights import has_model, load_model

    source = next(
        folder
        for folder in (Path(args.out), args.from_dir, DEFAULT_MODEL_DIR)
        if folder is not None and has_model(Path(folder))
    )
    network, model_config = load_model(Path(source))
    if model_config.network.image_size != train_config.low_size:
        print(
            f"upscaling stage: {source} makes {model_config.network.image_size} px images but the "
            f"stage takes {train_config.low_size} px: trained without stage-1 re-drawings",
            file=sys.stderr,
        )
        return drawings
    count = train_config.stage_one_per_drawing
    print(f"upscaling stage: {count} stage-1 re-drawings each, by {source}", file=sys.stderr)
    return with_stage_one_guesses(drawings, network, model_config, count, args.seed)
