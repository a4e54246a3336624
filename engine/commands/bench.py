"""`python -m engine bench`: speed and memory figures of the loaded model."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.errors import EngineError

HELP = "print speed and memory figures"
DESCRIPTION = "Latency of 8 variants, GFLOP/s against a measured peak, training speed."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `bench` options to an argument parser."""
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: shipped)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repetitions")
    parser.add_argument(
        "--huge",
        action="store_true",
        help="only the memory of 8 variants of 8000 px layers (a small drawing, one filling it)",
    )


def run(args: argparse.Namespace) -> int:
    """Load the model and print the benchmark's figures."""
    if args.repeats < 1:
        raise EngineError(f"--repeats must be at least 1, got {args.repeats}")
    from engine.measure.bench import huge_layer_memory, run_bench
    from engine.model import PRECISIONS
    from engine.pipeline import Engine

    if args.huge:
        huge_layer_memory(Engine.load(args.model))
        return 0
    engines = {precision: Engine.load(args.model, precision) for precision in PRECISIONS}
    run_bench(engines, args.repeats)
    return 0
