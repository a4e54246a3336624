"""`python -m engine bench-studio`: concurrent artists on a loopback Ray cluster vs one process."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.paths import DEFAULT_MODEL_DIR

HELP = "throughput of 4 artists on a Ray cluster (batched, unbatched) vs the single process"
DESCRIPTION = (
    "Start a two-node Ray cluster on loopback (one core, one model replica each), run concurrent "
    "artists' jobs through the studio's gateway with and without batching and through the "
    "single-process engine, and print variants per second and one job's added latency. "
    "Needs the studio extra: pip install -e '.[studio]'."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `bench-studio` options to an argument parser."""
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR, help="model folder")
    parser.add_argument("--artists", type=int, default=4, help="artists at once (default 4)")
    parser.add_argument("--jobs", type=int, default=5, help="jobs per artist (default 5)")
    parser.add_argument("--count", type=int, default=2, help="variants per job (default 2)")
    parser.add_argument("--steps", type=int, default=16, help="denoising steps (default 16)")
    parser.add_argument("--repeats", type=int, default=5, help="single jobs timed (default 5)")


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print its figures."""
    from engine.measure.bench import example_request
    from engine.studio.bench import Load, run_bench

    for name in ("artists", "jobs", "count", "steps", "repeats"):
        if getattr(args, name) < 1:
            print(f"error: --{name} must be at least 1", flush=True)
            return 2
    load = Load(
        sketch=example_request().sketch,
        artists=args.artists,
        jobs=args.jobs,
        count=args.count,
        steps=args.steps,
    )
    print(
        f"{load.artists} artists x {load.jobs} jobs of {load.count} variants, {load.steps} steps, "
        f"256 px sketch, no upsampling stage; model {args.model}",
        flush=True,
    )
    figures = run_bench(args.model, load, args.repeats, lambda line: print(line, flush=True))
    print(
        f"batched / unbatched: {figures['batched'] / figures['unbatched']:.2f}x, "
        f"batched / single-process: {figures['batched'] / figures['single_process']:.2f}x"
    )
    return 0
