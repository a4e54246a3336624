"""`python -m engine bench-training`: a generation job's latency while a training runs."""

from __future__ import annotations

import argparse
import base64
from pathlib import Path

from engine.paths import DEFAULT_MODEL_DIR

HELP = "latency of a generation job while the engine trains a model"
DESCRIPTION = (
    "Time 8 variants over loopback with the engine idle, then while a training on procedural "
    "flowers runs (it pauses between its steps for the job), and print both."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `bench-training` options to an argument parser."""
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR, help="model folder")
    parser.add_argument("--repeats", type=int, default=3, help="jobs timed each way")


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print its figures."""
    from engine.data.flowers import HELDOUT_SEED, TRAIN_SEED, make_flowers
    from engine.images import encode_png, opaque
    from engine.measure.crispness import as_layer
    from engine.measure.training_bench import bench_generation_during_training
    from engine.pipeline import Engine
    from engine.request import GenerateRequest

    drawings, _ = make_flowers(16, TRAIN_SEED, 256)
    pngs = [encode_png(opaque(drawing)) for drawing in drawings]
    sketch = as_layer(make_flowers(1, HELDOUT_SEED, 256)[1][0] / 255)
    request = GenerateRequest(sketch=sketch, count=8, seed=0)
    figures = bench_generation_during_training(
        Engine.load(args.model),
        args.model,
        request,
        [base64.b64encode(png).decode() for png in pngs],
        args.repeats,
    )
    print(f"8 variants, engine idle:        {figures['idle_seconds']:.2f} s (median)")
    print(f"8 variants, during a training:  {figures['during_training_seconds']:.2f} s (median)")
    if figures["training_step_seconds"]:
        print(f"one training step (the most a job waits): {figures['training_step_seconds']:.2f} s")
    return 0
