"""`python -m engine`: the command line. The only module that reads argv."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from engine import __version__
from engine.errors import EngineError
from engine.request import (
    COUNT_RANGE,
    DEFAULT_COUNT,
    DEFAULT_MODE,
    DEFAULT_RADIUS,
    DEFAULT_SEED,
    DEFAULT_STEPS,
    MODES,
    RADIUS_RANGE,
)

EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; user errors print one line and return exit code 2."""
    # TensorFlow's C++ start-up chatter is noise to an artist reading the terminal.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except EngineError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m engine",
        description="Sketch Variants engine: detailed variants of a rough sketch.",
    )
    parser.add_argument("--version", action="version", version=f"sketch-variants {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    generate = commands.add_parser(
        "generate",
        help="write variants of sketch images as PNG files",
        description="Write COUNT variants of each input sketch, aligned with it, as RGBA PNGs.",
    )
    generate.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="sketch images")
    generate.add_argument("--mode", default=DEFAULT_MODE, help=f"one of {', '.join(MODES)}")
    generate.add_argument(
        "--count",
        type=int,
        default=DEFAULT_COUNT,
        help=f"variants per input ({COUNT_RANGE[0]}-{COUNT_RANGE[1]})",
    )
    generate.add_argument(
        "--radius",
        type=int,
        default=DEFAULT_RADIUS,
        help=f"mask radius in model pixels ({RADIUS_RANGE[0]}-{RADIUS_RANGE[1]})",
    )
    generate.add_argument(
        "--strength",
        type=float,
        default=None,
        help="share of the noise levels to run, 0-1 (default: 1, sdedit 0.5)",
    )
    generate.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of variant 0")
    generate.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="denoising steps")
    generate.add_argument(
        "--model", type=Path, default=None, help="model folder (default: shipped)"
    )
    generate.add_argument("--out", type=Path, required=True, help="output folder")
    generate.add_argument(
        "--opaque", action="store_true", help="flatten on white instead of a transparent background"
    )
    generate.set_defaults(run=_run_command("engine.commands.generate"))

    train = commands.add_parser(
        "train",
        help="train a model on procedural eyes or a folder of drawings",
        description="Train with the paper's noise-mask recipe; resumes from --out's checkpoint.",
    )
    source = train.add_mutually_exclusive_group(required=True)
    source.add_argument("data_dir", nargs="?", type=Path, help="folder of drawings (PNG/JPEG)")
    source.add_argument("--procedural", type=int, metavar="N", help="N procedural eye drawings")
    train.add_argument("--out", type=Path, required=True, help="model folder to write")
    train.add_argument("--from", dest="from_dir", type=Path, help="fine-tune this model folder")
    train.add_argument(
        "--stage",
        choices=("both", "diffusion", "upscaler"),
        default="both",
        help="which stages to train: the 64 px diffusion model, the upsampler, or both",
    )
    train.add_argument("--steps", type=int, default=None, help="optimiser steps (diffusion)")
    train.add_argument(
        "--upscaler-steps", type=int, default=None, help="optimiser steps of the upsampler"
    )
    train.add_argument("--batch-size", type=int, default=None, help="images per step (diffusion)")
    train.add_argument(
        "--learning-rate", type=float, default=None, help="peak learning rate (diffusion)"
    )
    train.add_argument(
        "--recipe",
        choices=("mask", "full"),
        default="mask",
        help="mask: the paper's method; full: ordinary full-image noise",
    )
    train.add_argument("--seed", type=int, default=0, help="seed of every random choice")
    train.add_argument("--checkpoint-every", type=int, default=250, help="steps between saves")
    train.set_defaults(run=_run_command("engine.commands.train"))

    evaluate = commands.add_parser(
        "evaluate",
        help="measure the paper's claims on held-out sketches",
        description="Run the paper's experiments; write a table, picture grids and a plot.",
    )
    evaluate.add_argument("--out", type=Path, required=True, help="report folder")
    evaluate.add_argument(
        "--model", type=Path, default=None, help="model folder (default: shipped)"
    )
    evaluate.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="a model trained with --recipe full, for the inference-only mask",
    )
    evaluate.add_argument("--sketches", type=int, default=12, help="held-out sketches")
    evaluate.add_argument(
        "--precision",
        choices=("float32", "bfloat16"),
        default=None,
        help="compute precision (default: the engine's)",
    )
    evaluate.add_argument("--count", type=int, default=8, help="variants per sketch")
    evaluate.set_defaults(run=_run_command("engine.commands.evaluate"))

    bench = commands.add_parser(
        "bench",
        help="print speed and memory figures",
        description="Latency of 8 variants, GFLOP/s against a measured peak, training speed.",
    )
    bench.add_argument("--model", type=Path, default=None, help="model folder (default: shipped)")
    bench.add_argument("--repeats", type=int, default=5, help="timed repetitions")
    bench.set_defaults(run=_run_command("engine.commands.bench"))

    serve = commands.add_parser(
        "serve",
        help="serve variants over HTTP to the Krita plugin",
        description="Hold the model and answer jobs on a local socket.",
    )
    from engine.server.command import add_arguments as add_serve_arguments

    add_serve_arguments(serve)
    serve.set_defaults(run=_run_command("engine.server.command"))
    return parser


def _run_command(module_name: str):
    # Commands import their modules (and TensorFlow) only when run, so --help stays instant.
    def run(args: argparse.Namespace) -> int:
        import importlib

        return importlib.import_module(module_name).run(args)

    return run
