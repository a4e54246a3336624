"""`python -m engine evaluate`: the paper's experiments on held-out sketches."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.errors import EngineError

HELP = "measure the paper's claims on held-out sketches"
DESCRIPTION = "Run the paper's experiments; write a table, picture grids and a plot."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `evaluate` options to an argument parser."""
    parser.add_argument("--out", type=Path, required=True, help="report folder")
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: shipped)")
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="a model trained with --recipe full, for the inference-only mask",
    )
    parser.add_argument("--sketches", type=int, default=12, help="held-out sketches")
    parser.add_argument(
        "--precision",
        choices=("float32", "bfloat16"),
        default=None,
        help="compute precision (default: the engine's)",
    )
    parser.add_argument("--count", type=int, default=8, help="variants per sketch")
    parser.add_argument(
        "--side",
        type=int,
        default=None,
        help="draw the sketches on layers this many pixels wide, so variants go through both "
        "stages (default: the model's size)",
    )


def run(args: argparse.Namespace) -> int:
    """Load the model (and the baseline), run the experiments, and say where the report is."""
    if args.sketches < 2 or args.count < 2:
        raise EngineError("--sketches and --count must be at least 2 (retrieval and diversity)")
    if args.side is not None and not 16 <= args.side <= 4096:
        raise EngineError(f"--side must be between 16 and 4096 pixels, got {args.side}")
    from engine.measure.evaluate import run_evaluation
    from engine.pipeline import Engine

    engine = Engine.load(args.model, args.precision)
    baseline = Engine.load(args.baseline, args.precision) if args.baseline is not None else None
    results = run_evaluation(engine, baseline, args.out, args.sketches, args.count, side=args.side)
    for name, claim in results["claims"].items():
        print(f"{name}: {'holds' if claim['holds'] else 'does not hold'} ({claim['figures']})")
    print(f"recommended radius: {results['recommended_radius']}")
    print(f"report written to {args.out / 'report.md'}")
    return 0
