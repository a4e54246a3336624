"""`python -m engine compare-models`: realism and fidelity of several models in one table."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.errors import EngineError

HELP = "compare model folders on realism (vs held-out drawings) and fidelity to the sketch"
DESCRIPTION = (
    "Default variants of the same held-out sketches from each model: KID against held-out "
    "finished drawings, saturation, retrieval, recall, and line weight, colour spill and flat "
    "fills against each variant's own drawing; for ablations and training curves."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `compare-models` options to an argument parser."""
    parser.add_argument("models", nargs="+", type=Path, help="model folders")
    parser.add_argument("--out", type=Path, required=True, help="report folder")
    parser.add_argument("--sketches", type=int, default=24, help="held-out sketches")
    parser.add_argument("--count", type=int, default=8, help="variants per sketch")
    parser.add_argument(
        "--side", type=int, default=None, help="layer side in pixels (default: the model's size)"
    )


def run(args: argparse.Namespace) -> int:
    """Score every model and say where the table is."""
    if args.sketches < 2 or args.count < 2:
        raise EngineError("--sketches and --count must be at least 2 (retrieval and diversity)")
    missing = [str(model) for model in args.models if not (model / "config.json").is_file()]
    if missing:
        raise EngineError(f"{missing[0]} is not a model folder (no config.json)")
    from engine.measure.comparison import compare_models

    compare_models(args.models, args.out, args.sketches, args.count, args.side)
    print(f"table written to {args.out / 'comparison.md'}")
    return 0
