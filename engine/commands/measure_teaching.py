"""`python -m engine measure-teaching`: a quick training on procedural flowers, before and after."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.errors import EngineError
from engine.paths import DEFAULT_MODEL_DIR

HELP = "measure teaching a new subject: a quick training on procedural flowers"
DESCRIPTION = (
    "Train the model on N procedural flower drawings as the engine server does, then score "
    "its variants of held-out flower sketches before and after, and draw a picture."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `measure-teaching` options to an argument parser."""
    parser.add_argument("--out", type=Path, required=True, help="work folder (drawings, model)")
    parser.add_argument("--picture", type=Path, required=True, help="PNG to write")
    parser.add_argument(
        "--from", dest="from_dir", type=Path, default=DEFAULT_MODEL_DIR, help="model to teach"
    )
    parser.add_argument("--drawings", type=int, default=50, help="training drawings")
    parser.add_argument("--steps", type=int, default=300, help="steps of each stage")
    parser.add_argument("--sketches", type=int, default=12, help="held-out sketches")


def run(args: argparse.Namespace) -> int:
    """Train, score, and say where the results are."""
    if args.drawings < 8 or args.steps < 1 or args.sketches < 2:
        raise EngineError("--drawings must be at least 8, --steps 1 and --sketches 2")
    from engine.measure.teaching import measure_teaching

    measure_teaching(
        args.out, args.picture, args.from_dir, args.drawings, args.steps, args.sketches
    )
    print(f"results written to {args.out / 'results.json'} and {args.picture}")
    return 0
