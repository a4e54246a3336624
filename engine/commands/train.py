"""`python -m engine train`: train or fine-tune a model's two stages."""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path

from engine.config import COLOUR_REACH_RANGE
from engine.errors import EngineError
from engine.training import STAGES, TrainOptions, train_model

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
        choices=STAGES,
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
    parser.add_argument(
        "--colour-reach",
        type=int,
        default=None,
        metavar="PX",
        help="weigh each pixel by the strongest chroma within PX pixels, so highlights and pupils "
        "inside an iris weigh as much as the iris ({} to {}; default: the model's, else 0)".format(
            *COLOUR_REACH_RANGE
        ),
    )
    parser.add_argument(
        "--sketch-start",
        type=float,
        default=None,
        metavar="SHARE",
        help="share (0 to 1) of the masked examples that start from the sketch's faint lines "
        "under noise, as generation starts, to be drawn into the finished drawing (default: the "
        "model's, else 0)",
    )
    parser.add_argument(
        "--distil-guidance",
        dest="distilled_guidance",
        type=float,
        default=None,
        metavar="W",
        help="teach the network to draw in one call what the --from model draws under colour "
        "guidance W (1 to 4) in two",
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
    low, high = COLOUR_REACH_RANGE
    if args.colour_reach is not None and not low <= args.colour_reach <= high:
        raise EngineError(f"--colour-reach must be {low} to {high}, got {args.colour_reach}")
    if args.sketch_start is not None and not 0 <= args.sketch_start <= 1:
        raise EngineError(f"--sketch-start must be 0 to 1, got {args.sketch_start}")
    guidance = args.distilled_guidance
    if guidance is not None and not 1 <= guidance <= 4:
        raise EngineError(f"--distil-guidance must be 1 to 4, got {guidance}")
    if guidance is not None and args.from_dir is None:
        raise EngineError("--distil-guidance needs --from, the model to learn from")
    options = TrainOptions(
        **{field.name: getattr(args, field.name) for field in fields(TrainOptions)}
    )
    from engine.trainer import progress_line  # TensorFlow loads here, not for --help

    train_model(
        options, report=lambda line: print(line, file=sys.stderr), step_report=progress_line
    )
    print(f"model written to {args.out}")
    return 0
