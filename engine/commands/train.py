"""`python -m engine train`: train or fine-tune a model's two stages."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from engine.config import ModelConfig
from engine.errors import EngineError

# Fine-tuning the upsampler on an artist's drawings: enough to take on a style's line quality.
FINE_TUNE_STEPS = 300


def run(args: argparse.Namespace) -> int:
    """Load the drawings, train the chosen stages, and say where the model is."""
    for name in ("steps", "upscaler_steps", "batch_size", "learning_rate", "procedural"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            raise EngineError(f"--{name.replace('_', '-')} must be positive, got {value}")
    if args.stage in ("both", "diffusion"):
        _train_diffusion(args)
    if args.stage in ("both", "upscaler"):
        _train_upscaler(args)
    print(f"model written to {args.out}")
    return 0


def _train_diffusion(args: argparse.Namespace) -> None:
    from engine.train import config_for, prepare_training_set, train
    from engine.weights import read_model_document

    overrides = {"recipe": args.recipe, "seed": args.seed}
    for name in ("steps", "batch_size", "learning_rate"):
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
    config = config_for(base, **overrides)
    size = config.network.image_size
    if args.procedural is not None:
        from engine.data.procedural import TRAIN_SEED, make_eyes

        drawings, sketches = make_eyes(args.procedural, TRAIN_SEED, size)
    else:
        from engine.data.folder import load_folder

        drawings, sketches = load_folder(args.data_dir, size)
    print(f"diffusion stage: {len(drawings)} drawings at {size} px", file=sys.stderr)
    data = prepare_training_set(drawings, sketches)
    trainer = train(config, data, args.out, args.from_dir, args.checkpoint_every)
    print(f"diffusion stage: {trainer.step} steps, {trainer.elapsed / 60:.1f} min", file=sys.stderr)


def _train_upscaler(args: argparse.Namespace) -> None:
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
    trainer = train_upscaler(
        config, drawings, Path(args.out) / UPSCALER_DIR, from_dir, args.checkpoint_every
    )
    print(f"upscaling stage: {trainer.step} steps, {trainer.elapsed / 60:.1f} min", file=sys.stderr)
