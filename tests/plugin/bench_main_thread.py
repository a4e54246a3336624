"""Benchmark: how long each plugin step that runs on Krita's main thread takes, per sketch size.

Run: `.venv/bin/python tests/plugin/bench_main_thread.py` (prints figures; asserts nothing).
Krita's own pixelData/setPixelData calls are not included: they are Krita's cost, not ours.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "krita_plugin"))

from sketch_variants.pixels import (  # noqa: E402
    decode_png_bgra,
    encode_png,
    is_transparent,
    swap_red_blue,
)
from sketch_variants.qt import QtWidgets  # noqa: E402
from sketch_variants.sse import SseParser  # noqa: E402
from sketch_variants.values import JobRequest  # noqa: E402

SIZES = (256, 512, 1024, 2048)
VARIANTS = 8


def best_ms(work: Callable[[], object], repeats: int = 5) -> float:
    """The fastest of a few runs, in milliseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return min(times)


def main() -> None:
    """Print one row per sketch size."""
    _app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    print("       main thread  | worker thread: sketch -> request    | worker: per variant")
    print("side   empty check  | swap BGRA->RGBA  encode PNG  JSON  | decode PNG")
    for side in SIZES:
        # A sketch-like layer: mostly transparent, a band of dark ink.
        bgra = bytearray(side * side * 4)
        for y in range(side // 3, side // 3 + side // 50 + 1):
            bgra[y * side * 4 : (y + 1) * side * 4] = bytes([20, 20, 20, 255]) * side
        bgra = bytes(bgra)
        rgba = swap_red_blue(bgra)
        png = encode_png(rgba, side, side)
        empty = best_ms(lambda: is_transparent(bgra))  # noqa: B023
        swap = best_ms(lambda: swap_red_blue(bgra))  # noqa: B023
        encode = best_ms(lambda: encode_png(rgba, side, side))  # noqa: B023
        body = best_ms(lambda: JobRequest(png, "mask", 8, 3, 0, 16).to_json())  # noqa: B023
        decode = best_ms(lambda: decode_png_bgra(png, side, side))  # noqa: B023
        print(
            f"{side:5d}  {empty:11.1f}  | {swap:15.1f}  {encode:10.1f}  {body:4.1f}  "
            f"| {decode:10.1f} ms"
        )
    parser = SseParser()
    chunk = b'event: progress\ndata: {"step": 3, "total": 16}\n\n' * 16
    print(f"SSE: {best_ms(lambda: parser.feed(chunk)):.3f} ms for 16 progress events")
    print(f"(a job inserts {VARIANTS} variants: decode time x {VARIANTS}, one per layer)")


if __name__ == "__main__":
    main()
