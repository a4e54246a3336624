"""`python -m engine generate`: variants of sketch files, written as aligned RGBA PNGs."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from engine.errors import EngineError
from engine.framing import frame_sketch
from engine.images import flattened_bytes, opaque, read_image, write_png
from engine.request import (
    COUNT_RANGE,
    DEFAULT_COUNT,
    DEFAULT_MODE,
    DEFAULT_RADIUS,
    DEFAULT_SEED,
    MODES,
    RADIUS_RANGE,
    GenerateRequest,
)

HELP = "write variants of sketch images as PNG files"
DESCRIPTION = "Write COUNT variants of each input sketch, aligned with it, as RGBA PNGs."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `generate` options to an argument parser."""
    parser.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="sketch images")
    parser.add_argument("--mode", default=DEFAULT_MODE, help=f"one of {', '.join(MODES)}")
    parser.add_argument(
        "--count",
        type=int,
        default=DEFAULT_COUNT,
        help=f"variants per input ({COUNT_RANGE[0]}-{COUNT_RANGE[1]})",
    )
    parser.add_argument(
        "--radius",
        type=int,
        default=DEFAULT_RADIUS,
        help=f"mask radius in model pixels ({RADIUS_RANGE[0]}-{RADIUS_RANGE[1]})",
    )
    parser.add_argument(
        "--strength",
        type=float,
        default=None,
        help="share of the noise levels to run, 0-1 (default: 1, sdedit 0.5)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of variant 0")
    parser.add_argument(
        "--steps", type=int, default=None, help="denoising steps (default: the model's own)"
    )
    parser.add_argument(
        "--no-clean-fills",
        dest="clean_fills",
        action="store_false",
        help="leave the fills as the model draws them (for a textured style)",
    )
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: shipped)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument(
        "--opaque", action="store_true", help="flatten on white instead of a transparent background"
    )


def run(args: argparse.Namespace) -> int:
    """Validate everything first, then load the model once and write every input's variants."""
    sketches = [(path, read_image(path)) for path in args.inputs]
    requests = [
        (
            path,
            GenerateRequest(
                sketch=sketch,
                mode=args.mode,
                count=args.count,
                radius=args.radius,
                strength=args.strength,
                seed=args.seed,
                steps=args.steps,
                clean_fills=args.clean_fills,
            ),
        )
        for path, sketch in sketches
    ]
    out_dirs = _output_folders(args.out, [path for path, _ in requests])
    for _, request in requests:
        frame_sketch(request.sketch)  # an empty sketch fails here, before the model loads

    from engine.pipeline import Engine  # TensorFlow loads only once the inputs are known good

    engine = Engine.load(args.model)
    for (path, request), out_dir in zip(requests, out_dirs, strict=True):
        result = engine.generate(request)
        for index, variant in enumerate(result.variants):
            image = variant.image
            if args.opaque:
                image = _flattened(image)
            write_png(image, out_dir / f"{path.stem}_variant{index}_seed{variant.seed}.png")
        print(f"{path}: {len(result.variants)} variants in {out_dir}")
    return 0


def _output_folders(out: Path, inputs: list[Path]) -> list[Path]:
    # One input writes straight into --out; several get one sub-folder each, named after the file.
    if len(inputs) == 1:
        return [out]
    stems = [path.stem for path in inputs]
    if len(set(stems)) != len(stems):
        raise EngineError("two inputs share a file name: give them different names")
    return [out / stem for stem in stems]


def _flattened(rgba: np.ndarray) -> np.ndarray:
    return opaque(flattened_bytes(rgba))
