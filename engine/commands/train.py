"""`python -m engine train`: train or fine-tune a model."""

from __future__ import annotations

import argparse
import sys

from engine.config import ModelConfig
from engine.errors import EngineError


def run(args: argparse.Namespace) -> int:
    """Load the drawings, train, and say where the model is."""
    from engine.train import config_for, prepare_training_set, train
    from engine.weights import read_model_document

    overrides = {"recipe": args.recipe, "seed": args.seed}
    for name in ("steps", "batch_size", "learning_rate"):
        value = getattr(args, name)
        if value is not None:
            if value <= 0:
                raise EngineError(f"--{name.replace('_', '-')} must be positive, got {value}")
            overrides[name] = value
    if args.procedural is not None:
        if args.procedural < 1:
            raise EngineError(f"--procedural must be at least 1, got {args.procedural}")
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
    print(f"training on {len(drawings)} drawings at {size} px", file=sys.stderr)
    data = prepare_training_set(drawings, sketches)
    trainer = train(config, data, args.out, args.from_dir, args.checkpoint_every)
    print(f"model written to {args.out} ({trainer.step} steps, {trainer.elapsed / 60:.1f} min)")
    return 0
