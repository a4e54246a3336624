"""Benchmark figures: latency of 8 variants, GFLOP, achieved vs peak GFLOP/s, training speed."""

from __future__ import annotations

import dataclasses
import resource
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf
from keras import layers

from engine.config import PAPER_SAMPLING
from engine.images import encode_png
from engine.pipeline import default_precision
from engine.request import GenerateRequest

# The paper's path, for the few-step path's ratio: its 16 levels.
PAPER_STEPS = PAPER_SAMPLING.steps


def model_gflop(network) -> float:
    """Multiply-adds x 2 of one image through the network's convolutions, in GFLOP."""
    flops = 0
    for layer in network.layers:
        if isinstance(layer, layers.Conv2DTranspose):
            _, height, width, _ = layer.input.shape
            flops += 2 * height * width * np.prod(layer.kernel.shape)
        elif isinstance(layer, layers.Conv2D):
            _, height, width, _ = layer.output.shape
            flops += 2 * height * width * np.prod(layer.kernel.shape)
    return float(flops) / 1e9


def matmul_peak_gflops(dtype=tf.float32, size: int = 2048, repeats: int = 10) -> float:
    """Best achieved GFLOP/s of a square matrix multiply in TensorFlow on this machine."""
    a = tf.random.normal((size, size), dtype=tf.float32)
    a = tf.cast(a, dtype)
    multiply = tf.function(lambda x: tf.matmul(x, x))
    multiply(a).numpy()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        multiply(a).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def timed(function: Callable[[], object], repeats: int) -> list[float]:
    """Wall seconds of each of `repeats` calls."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return seconds


def example_request(size: int = 256, count: int = 8, steps: int | None = None) -> GenerateRequest:
    """A ring-and-lid sketch like an eye, at the default settings (the model's own steps)."""
    sketch = np.zeros((size, size, 4), np.uint8)
    ys, xs = np.mgrid[:size, :size]
    centre = size / 2
    ring = np.abs(np.hypot(xs - centre, ys - centre) - size / 6) < 2
    lid = (np.abs(ys - (centre - size / 5 + ((xs - centre) / size) ** 2 * size)) < 2) & (
        np.abs(xs - centre) < size / 3
    )
    sketch[ring | lid] = (30, 30, 30, 255)
    return GenerateRequest(sketch=sketch, count=count, steps=steps)


def training_images_per_second(engine, steps: int = 5) -> float:
    """Training throughput of this model's recipe and size, on procedural eyes."""
    from engine.data.procedural import TRAIN_SEED, make_eyes
    from engine.train import Trainer, prepare_training_set

    drawings, sketches = make_eyes(64, TRAIN_SEED, engine.size)
    trainer = Trainer(engine.config, prepare_training_set(drawings, sketches), out_dir=".")
    trainer.run_step()  # traces the step
    seconds = timed(trainer.run_step, steps)
    return engine.config.train.batch_size / statistics.median(seconds)


def run_bench(engines: dict, repeats: int, report: Callable[[str], None] = print) -> dict:
    """Measure and print every figure for the engine of each precision; returns them."""
    # Model time: the diffusion network alone (no upsampling stage), which the GFLOP figures
    # count; the layers below add the stage.
    request = dataclasses.replace(example_request(), upscale=False)
    precision = default_precision()
    engine = engines[precision]
    medians, latencies = model_time(engines, precision, request, repeats, report)
    figures = {
        "precision": precision,
        "latency_s_by_precision": medians,
        "device": engine.info["device"],
        "parameters": engine.info["parameters"],
        "variants": request.count,
        "steps": engine.steps(request),
        "solver": engine.config.sampling.solver,
        "latency_s_16_steps": medians["16-step path"],
        "few_step_ratio": medians[precision] / medians["16-step path"],
        "latency_s_median": medians[precision],
        "latency_s_min": min(latencies),
        **efficiency(engine, request, medians[precision], precision, report),
    }
    figures.update(serving(engine, request, repeats, report))
    figures["training_images_per_s"] = training_images_per_second(engine)
    report(f"training: {figures['training_images_per_s']:.1f} images/s")
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report(f"peak memory (RSS): {figures['peak_rss_mb']:.0f} MB")
    return figures


def model_time(
    engines: dict,
    precision: str,
    request: GenerateRequest,
    repeats: int,
    report: Callable[[str], None],
) -> tuple[dict[str, float], list[float]]:
    """Median seconds of the model's own path in each precision and of the paper's 16-step path
    at the default precision, interleaved so every path sees the same machine load; and the
    default precision's own samples."""
    engine = engines[precision]
    steps = engine.steps(request)
    runs = {name: (candidate, request) for name, candidate in engines.items()}
    runs["16-step path"] = (engine, dataclasses.replace(request, steps=PAPER_STEPS))
    for candidate, asked in runs.values():
        candidate.generate(asked)  # warm: traces the graph for this batch shape
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, (candidate, asked) in runs.items():
            samples[name] += timed(lambda c=candidate, r=asked: c.generate(r), 1)
    medians = {name: statistics.median(seconds) for name, seconds in samples.items()}
    for name, seconds in samples.items():
        levels = PAPER_STEPS if name == "16-step path" else steps
        report(
            f"{name}: 8 variants x {levels} steps, model time: median {medians[name]:.3f} s "
            f"(min {min(seconds):.3f} s over {repeats} runs)"
        )
    if "bfloat16" in medians and "float32" in medians:
        report(f"bfloat16 / float32 latency ratio: {medians['bfloat16'] / medians['float32']:.2f}")
    report(
        f"the model's path ({engine.config.sampling.solver}, {steps} steps) / the 16-step path "
        f"({precision}): {medians[precision] / medians['16-step path']:.2f}"
    )
    return medians, samples[precision]


def efficiency(
    engine, request: GenerateRequest, latency: float, precision: str, report: Callable[[str], None]
) -> dict[str, float]:
    """The model's GFLOP, what the measured latency achieves, and this machine's matmul peaks."""
    gflop = model_gflop(engine.network)
    achieved = gflop * request.count * engine.steps(request) / latency
    peak_fp32 = matmul_peak_gflops()
    peak_bf16 = matmul_peak_gflops(tf.bfloat16)
    # The model runs at the default precision: compare it with that precision's peak.
    peak = peak_bf16 if precision == "bfloat16" else peak_fp32
    report(f"device {engine.info['device']}, {engine.info['parameters']:,} parameters")
    report(f"default precision {precision}: median {latency:.3f} s for 8 variants")
    report(f"model: {gflop:.3f} GFLOP per image per step; achieved {achieved:.1f} GFLOP/s")
    report(
        f"matmul peak: fp32 {peak_fp32:.1f} GFLOP/s, bf16 {peak_bf16:.1f} GFLOP/s; "
        f"achieved/peak({precision}) = {achieved / peak:.2f}"
    )
    return {
        "model_gflop_per_image": gflop,
        "achieved_gflops": achieved,
        "matmul_peak_gflops_fp32": peak_fp32,
        "matmul_peak_gflops_bf16": peak_bf16,
        "achieved_over_peak": achieved / peak,
    }


def serving(
    engine, request: GenerateRequest, repeats: int, report: Callable[[str], None]
) -> dict[str, Any]:
    """The server path against bare generate, and each layer size through the socket."""
    from engine.measure.server_bench import bench_layers, bench_server

    served = bench_server(engine, request, repeats)
    report(
        f"server: {served['server_seconds']:.3f} s vs bare {served['bare_seconds']:.3f} s "
        f"-> overhead {100 * served['overhead_fraction']:.1f}%; "
        f"idle server RSS {served['idle_rss_mb']:.0f} MB"
    )
    layers = bench_layers(engine, example_request, repeats)
    for row in layers:
        stage = "two stages" if row["upscale"] else "64 px blow-up"
        report(
            f"{row['side']} px sketch, 8 variants, {stage:13s}: through the socket "
            f"{row['server_seconds']:.3f} s, engine alone {row['bare_seconds']:.3f} s"
        )
    return {"server": served, "layers": layers}


HUGE_SIDE = 8000  # a layer near the 8192 px limit


def huge_layer(side: int, fills: bool) -> np.ndarray:
    """An RGBA layer with a ring: a small one in a corner, or one filling the layer."""
    layer = np.zeros((side, side, 4), np.uint8)
    radius = side * 0.48 if fills else 150
    centre = side / 2 if fills else 400
    for top in range(0, side, 500):  # in bands: the layer itself is the only large array
        ys, xs = np.ogrid[top : min(top + 500, side), :side]
        ring = np.abs(np.hypot(xs - centre, ys - centre) - radius) < 6
        layer[top : top + 500][ring] = (20, 20, 20, 255)
    return layer


def huge_layer_memory(engine, report: Callable[[str], None] = print) -> dict:
    """Peak memory (RSS) that 8 variants of an 8000 px layer add, and that the layer is intact.

    The small drawing runs first: ru_maxrss only grows, so each figure is its own new peak.
    """
    figures = {}
    for name, fills in (("small drawing", False), ("drawing filling it", True)):
        layer = huge_layer(HUGE_SIDE, fills)
        before = layer.copy()
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        start = time.perf_counter()
        result = engine.generate(GenerateRequest(sketch=layer, count=8))
        # As the server does: each variant's full-size image made and encoded in turn.
        png_bytes = sum(len(encode_png(variant.image)) for variant in result.variants)
        seconds = time.perf_counter() - start
        added = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - peak_before
        figures[name] = {
            "added_mb": added,
            "seconds": seconds,
            "patch": result.variants[0].patch.shape[0],
        }
        report(
            f"{HUGE_SIDE} px layer, {name}: 8 variants add {added:.0f} MB peak "
            f"({seconds:.1f} s with the PNGs, {png_bytes / 1e6:.1f} MB of them; patches "
            f"{figures[name]['patch']} px); "
            f"layer unchanged: {np.array_equal(before, layer)}"
        )
    return figures
