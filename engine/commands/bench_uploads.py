"""`python -m engine bench-uploads`: the memory and answer times of concurrent training uploads."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "memory and answer times of concurrent training uploads of large drawings"
DESCRIPTION = (
    "Start `python -m engine serve` in a temporary data folder, send concurrent trainings of "
    "large one-stroke drawings, and print the server's added memory (Linux), the answer times, "
    "how fast a full queue refuses the same upload, and how long SIGTERM takes with a training "
    "running."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `bench-uploads` options to an argument parser."""
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: shipped)")
    parser.add_argument("--uploads", type=int, default=4, help="concurrent uploads")
    parser.add_argument("--drawings", type=int, default=8, help="drawings in each upload")
    parser.add_argument("--side", type=int, default=8192, help="each drawing's side in pixels")


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print its figures."""
    from engine.measure.upload_bench import bench_uploads, report

    figures = bench_uploads(args.model, args.uploads, args.drawings, args.side)
    print(report(figures))
    return 0
