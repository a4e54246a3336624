"""Benchmark of live mode in real Krita with the real engine: main-thread time per change check on a
4000 x 3000 document with a 600 px sketch, and stroke-to-live-layer latency at the default (fast
sampling: the model's own steps, "0" below) and at 16, 8 and 4 levels.

Run: `.venv/bin/python tests/krita/bench_live.py [--picture docs/live_levels.png]` (prints figures,
asserts nothing; needs Krita, kritarunner and Xvfb like tests/krita). The picture shows the sketch,
the live layer at each level count and what Keep made of it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "packaging"))

from demo import start_engine  # noqa: E402
from krita_harness import make_home, run_krita  # noqa: E402

ENGINE_START_TIMEOUT = 420  # seconds: TensorFlow can take minutes to import on a busy 2-core box
TILE = 240  # picture column width


def picture(folder: Path, results: dict, path: Path) -> None:
    """The sketch, the quick live preview at each level count and Keep's result, side by side on
    white (the settled preview, which ran Keep's path, is Keep's result)."""
    names = [("sketch.png", "sketch (with the strokes the benchmark added)")]
    for levels, figures in results["levels"].items():
        steps = f"{levels} levels" if levels != "0" else "default"
        label = f"live, {steps}: {figures['median_ms'] / 1000:.2f} s"
        names.append((f"live_{levels}_quick.png", label))
    names.append(("keep.png", f"Keep: default + upscale, {results['keep_s']:.1f} s"))
    sheet = Image.new("RGB", (TILE * len(names), TILE + 24), "white")
    draw = ImageDraw.Draw(sheet)
    for column, (name, label) in enumerate(names):
        tile = Image.open(folder / name).convert("RGBA").resize((TILE, TILE), Image.LANCZOS)
        sheet.paste(tile, (column * TILE, 0), tile)
        draw.text((column * TILE + 6, TILE + 6), label, fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)


def main() -> None:
    """Start the engine, run the scenario in kritarunner, print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--picture", type=Path, help="where to write the comparison picture")
    parser.add_argument("--repeats", type=int, default=5, help="strokes timed per level count")
    parser.add_argument("--model", type=Path, default=REPO / "weights" / "default")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sv-live-bench-") as scratch:
        root = Path(scratch)
        token = root / "token"
        serve = [sys.executable, "-m", "engine", "serve", "--port", "0"]
        engine = start_engine(
            [*serve, "--token-file", str(token), "--model", str(args.model)], ENGINE_START_TIMEOUT
        )
        try:
            home = make_home(root / "home")
            run = run_krita(
                home,
                ["kritarunner", "-s", "live_bench_scenario", "-f", "main"],
                timeout=1800,
                log_name="live-bench.log",
                PYTHONPATH=os.pathsep.join([str(HERE), str(REPO / "packaging")]),
                SV_OUT=str(root / "out"),
                SV_SERVER_URL=engine.url or "",
                SV_TOKEN=token.read_text().strip(),
                SV_REPEATS=str(args.repeats),
            )
        finally:
            engine.stop()
        found, error = root / "out" / "results.json", root / "out" / "error.txt"
        if not found.exists():
            why = error.read_text() if error.exists() else run.stderr[-3000:]
            sys.exit(f"the scenario in Krita wrote no results:\n{why}")
        results = json.loads(found.read_text())
        if "0" in results["levels"]:
            results["preview_vs_keep"] = preview_against_keep(root / "out")
        if args.picture:
            picture(root / "out", results, args.picture)
    width, height = results["sketch_box"]
    print(f"4000 x 3000 document, {width} x {height} px sketch, {os.cpu_count()} CPU cores")
    check = results["check_ms"]
    print(f"main thread per change check: {check['median']:.3f} ms median, {check['max']:.3f} max")
    print(f"main thread, reading the sketch once it changed: {results['read_layer_ms']:.1f} ms")
    print(f"(reading the whole canvas instead: {results['whole_canvas_read_ms']:.1f} ms)")
    print(
        "levels  stroke end -> live layer (median)  all (ms)  main thread to show a result  "
        "-> settled (Keep's variant, median)"
    )
    for levels, figures in results["levels"].items():
        print(
            f"{levels:>6}  {figures['median_ms'] / 1000:31.2f} s  {figures['all_ms']}  "
            f"{figures['show_live_ms']:.0f} ms  {figures['settled_median_ms'] / 1000:.2f} s"
        )
    print(f"Keep (default steps, upscale on): {results['keep_s']:.1f} s -> {results['keep_name']}")
    for label, match in results.get("preview_vs_keep", {}).items():
        where = "at the layer's pixels" if label == "settled" else "at 64 px"
        print(
            f"default {label} live preview vs Keep, same sketch and seed, {where}: "
            f"mean |difference| {match['mean_abs']:.4f}, PSNR {match['psnr_db']:.1f} dB"
        )
    print_breakdown(results["levels"])


def preview_against_keep(folder: Path, size: int = 64) -> dict:
    """The default live previews against Keep's variant of the same sketch and seed, on white:
    the settled preview at the layer's pixels (it ran Keep's path, so it should equal it), and
    the quick one shrunk to the model's size (it skips the upsampling stage, so only stage 1 can
    match). Mean absolute difference in [0, 1] and PSNR of each."""

    def on_white(name: str, side: int | None = None) -> np.ndarray:
        layer = Image.open(folder / name).convert("RGBA")
        flat = Image.new("RGBA", layer.size, "white")
        flat.alpha_composite(layer)
        image = flat.convert("RGB")
        if side is not None:
            image = image.resize((side, side), Image.Resampling.BOX)
        return np.asarray(image, np.float64) / 255

    figures = {}
    for label, name, side in (("settled", "live_0.png", None), ("quick", "live_0_quick.png", size)):
        difference = np.abs(on_white(name, side) - on_white("keep.png", side))
        mse = float((difference**2).mean())
        figures[label] = {
            "mean_abs": float(difference.mean()),
            "psnr_db": float(10 * np.log10(1 / max(mse, 1e-12))),
        }
    return figures


def print_breakdown(levels: dict) -> None:
    """Where a stroke's latency goes: the median milliseconds of each stage per level count."""
    print("\nstroke end -> live layer, median ms per stage (each stage's own median)")
    print(f"{'stage':<44}" + "".join(f"{n + ' levels':>11}" for n in levels))
    for stage in next(iter(levels.values()))["stages_ms"]:
        row = "".join(f"{figures['stages_ms'][stage]:11.0f}" for figures in levels.values())
        print(f"{stage:<44}{row}")


if __name__ == "__main__":
    main()
