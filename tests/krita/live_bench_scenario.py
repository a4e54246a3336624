"""Run INSIDE real Krita by tests/krita/bench_live.py (kritarunner -s live_bench_scenario -f main):
live mode on a 4000 x 3000 document with a 600 px sketch; its timings and pictures go to $SV_OUT.

Each stroke's latency is broken down into stages by wrapping the plugin's own calls (the check,
the layer read, the PNG work, each HTTP call, the pixels shown) and by the engine's Server-Timing
header on the result; what no stage covers is event-loop and thread hand-offs.
"""

from __future__ import annotations

import json
import math
import os
import random
import statistics
import sys
import time
import traceback
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from krita import Document, Krita

sys.path.insert(0, os.environ["SV_PYKRITA"])

import sketch_variants  # noqa: E402  (the installed plugin, registered as at startup)
from krita_harness import wait  # noqa: E402  (packaging/ is on PYTHONPATH)
from sketch_variants import job_runner  # noqa: E402
from sketch_variants.events import StateChange  # noqa: E402
from sketch_variants.pixels import swap_red_blue  # noqa: E402
from sketch_variants.qt import QImage  # noqa: E402
from sketch_variants.settings import load  # noqa: E402

WIDTH, HEIGHT, SIDE = 4000, 3000, 600  # the document and the sketch's box
LEFT, TOP = 1700, 1200
# Level counts of live previews; 0: the default, fast sampling (the model's own steps), last, so
# its preview and Keep's result are of the same sketch and seed.
LEVELS = tuple(int(n) for n in os.environ.get("SV_LEVELS", "16,8,4,0").split(","))
REPEATS = int(os.environ.get("SV_REPEATS", "5"))
CHECKS = 300  # change checks timed while nothing changes
TIMEOUT = 300.0
INK = bytes([30, 20, 10, 255])


def stroke(pixels: bytearray, cx: float, cy: float, rx: float, ry: float, width: float) -> None:
    """An elliptical line of `width` px drawn into a SIDE x SIDE BGRA buffer."""
    for y in range(max(0, int(cy - ry - width)), min(SIDE, int(cy + ry + width) + 1)):
        for x in range(max(0, int(cx - rx - width)), min(SIDE, int(cx + rx + width) + 1)):
            distance = math.hypot((x - cx) / rx, (y - cy) / ry)
            if abs(distance - 1.0) * min(rx, ry) < width / 2:
                pixels[(y * SIDE + x) * 4 : (y * SIDE + x) * 4 + 4] = INK


def eye_sketch() -> bytearray:
    """A 600 px eye: the outline, the iris and the pupil."""
    pixels = bytearray(SIDE * SIDE * 4)
    stroke(pixels, 300, 300, 290, 200, 5)
    stroke(pixels, 300, 300, 120, 120, 4)
    stroke(pixels, 300, 300, 40, 40, 4)
    return pixels


def median_ms(samples: list[float]) -> float:
    """The median of seconds, in milliseconds."""
    return statistics.median(samples) * 1000


def main(*_args: object) -> None:
    """Run the benchmark; a failure's traceback goes to $SV_OUT/error.txt for the launcher."""
    out = Path(os.environ["SV_OUT"])
    out.mkdir(parents=True, exist_ok=True)
    try:
        measure(out)
    except Exception:  # kritarunner would swallow it: hand it to the launcher
        (out / "error.txt").write_text(traceback.format_exc())


# The stages of one stroke's latency, in order: (name, start mark, end mark). Marks are taken
# by Probe's wrappers; "ended" is the stroke's end and "shown" the docker's update.
STAGES = (
    ("wait for the check", "ended", "check"),
    ("read the sketch", "read", "read_end"),
    ("encode the sketch PNG", "encode", "encode_end"),
    ("HTTP submit", "submit", "accepted"),
    ("result fetch (HTTP, JSON, base64)", "result", "result_end"),
    ("decode the result PNG", "decode", "decode_end"),
    ("show: write the pixels", "show", "refresh"),
    ("show: projection refresh", "refresh", "refresh_end"),
)
SERVER_STAGES = ("queue", "prepare", "engine", "encode")


class Probe:
    """Wraps the plugin's calls on one live request's path and marks when each starts and ends."""

    def __init__(self, controller: Any) -> None:
        self.marks: dict[str, float] = {}
        self.job_id = ""
        live, host, client = controller.live, controller.host, controller.client
        live._read_and_send = self._timed(live._read_and_send, "check")
        host.read_layer = self._timed(host.read_layer, "read")
        host.show_live = self._timed(host.show_live, "show")
        job_runner.build_request = self._timed(job_runner.build_request, "encode")
        job_runner.decode_variants = self._timed(job_runner.decode_variants, "decode")
        Document.refreshProjection = self._timed(Document.refreshProjection, "refresh")
        submit, events, result = client.submit, client.events, client.result

        def submitted(request: Any, on_ok: Callable[[str], None], on_error: Any) -> None:
            self.mark("submit")

            def accepted(job_id: str) -> None:
                self.mark("accepted")
                self.job_id = self.job_id or job_id  # the quick preview's, not the settling one's
                on_ok(job_id)

            submit(request, accepted, on_error)

        def followed(job_id: str, on_event: Any, on_error: Any, kind: str = "jobs") -> Any:
            def event(happened: Any) -> None:
                if isinstance(happened, StateChange) and happened.final:
                    self.mark("done")
                on_event(happened)

            return events(job_id, event, on_error, kind)

        def fetched(job_id: str, on_ok: Callable[[Any], None], on_error: Any) -> None:
            self.mark("result")
            result(job_id, lambda variants: (self.mark("result_end"), on_ok(variants)), on_error)

        client.submit, client.events, client.result = submitted, followed, fetched

    def reset(self) -> None:
        """A new stroke: forget the last one's marks and job."""
        self.marks.clear()
        self.job_id = ""

    def mark(self, name: str) -> None:
        """The first time `name` happened since the stroke (a later repeat is another request)."""
        self.marks.setdefault(name, time.perf_counter())

    def _timed(self, call: Callable[..., Any], name: str) -> Callable[..., Any]:
        def timed(*args: Any) -> Any:
            self.mark(name)
            try:
                return call(*args)
            finally:
                self.mark(f"{name}_end")

        return timed

    def stages(self, ended: float, shown: float, server: dict[str, float]) -> dict[str, float]:
        """Milliseconds per stage of the stroke that ended at `ended` and was shown at `shown`."""
        marks = {**self.marks, "ended": ended}
        ms = {name: (marks[end] - marks[start]) * 1000 for name, start, end in STAGES}
        ms.update({f"engine server: {stage}": server.get(stage, 0.0) for stage in SERVER_STAGES})
        # The done event reaches the plugin this long after the engine finished (SSE and the
        # main thread's turn), counted from the submit's answer.
        waited = (marks["done"] - marks["accepted"]) * 1000
        ms["done event after the engine finished"] = waited - sum(server.values())
        ms["hand-offs between stages"] = (shown - ended) * 1000 - sum(ms.values())
        ms["total"] = (shown - ended) * 1000
        return ms


def server_timing(url: str, token: str, job_id: str) -> dict[str, float]:
    """The engine's milliseconds per stage of a finished job (its result's Server-Timing)."""
    request = urllib.request.Request(
        f"{url}/v1/jobs/{job_id}/result", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        header = answer.headers.get("Server-Timing", "")
    parts = (part.split(";dur=") for part in header.split(", ") if ";dur=" in part)
    return {name: float(ms) for name, ms in parts}


def measure(out: Path) -> None:
    """Time change checks and stroke-to-live-layer latency per level count; save pictures."""
    app = Krita.instance()
    controller = sketch_variants.CONTROLLER
    values = {"server_url": os.environ["SV_SERVER_URL"], "token": os.environ["SV_TOKEN"]}
    settings = load(lambda key, default: values.get(key, default))
    controller.update_settings(replace(settings, params=replace(settings.params, new_seed=False)))
    document = app.createDocument(WIDTH, HEIGHT, "live bench", "RGBA", "U8", "", 72.0)
    window = app.activeWindow() or app.openWindow()
    window.qwindow().show()
    window.addView(document)
    sketch = document.createNode("eye sketch", "paintlayer")
    document.rootNode().addChildNode(sketch, None)
    pixels = eye_sketch()
    sketch.setPixelData(bytes(pixels), LEFT, TOP, SIDE, SIDE)
    document.setActiveNode(sketch)
    wait(lambda: getattr(document.activeNode(), "name", str)() == "eye sketch", 5)

    shown: list[float] = []  # when each live result reached the canvas
    controller.changed.connect(lambda: shown.append(time.perf_counter()))
    last_preview = [b""]

    def next_preview() -> bool:
        """Wait for a live result other than the last one seen."""
        if not wait(lambda: controller.state.live_preview not in (b"", last_preview[0]), TIMEOUT):
            return False
        last_preview[0] = controller.state.live_preview
        return True

    results: dict[str, Any] = {"levels": {}}
    controller.set_live(True)
    next_preview()
    live = controller.live
    checks = []
    for _ in range(CHECKS):
        started = time.perf_counter()
        live.check()
        checks.append(time.perf_counter() - started)
    results["check_ms"] = {"median": median_ms(checks), "max": max(checks) * 1000}
    target = live.target
    started = time.perf_counter()
    box = controller.host.read_layer(target).box
    results["read_layer_ms"] = (time.perf_counter() - started) * 1000
    results["sketch_box"] = [box.width, box.height]
    started = time.perf_counter()
    bytes(sketch.pixelData(0, 0, WIDTH, HEIGHT))
    results["whole_canvas_read_ms"] = (time.perf_counter() - started) * 1000

    probe = Probe(controller)
    pause = random.Random(0)
    spot = 0
    for levels in LEVELS:
        params = controller.settings.params
        controller.set_params(replace(params, fast_sampling=levels == 0, live_steps=levels or 8))
        latencies, settling, breakdowns = [], [], []
        for repeat in range(REPEATS + 1):  # the first warms the engine up for this level count
            spot += 1
            cx, cy = 300 + 180 * math.cos(spot), 300 + 90 * math.sin(spot)
            stroke(pixels, cx, cy, 12, 12, 3)
            # An artist's stroke ends at any moment of the check timer's period; right after a
            # result it would always end just after a check, its main-thread work having
            # delayed that check to then.
            wait(lambda: False, pause.uniform(0.0, 0.3))
            shown.clear()
            probe.reset()
            ended = time.perf_counter()  # the stroke ends: its pixels are in the layer
            sketch.setPixelData(bytes(pixels), LEFT, TOP, SIDE, SIDE)
            if not next_preview():
                raise RuntimeError(f"no live result at {levels} levels: {controller.state}")
            quick_at = shown[-1]
            if repeat == REPEATS:  # the quick preview, before the settled one replaces it
                save_live(document, out / f"live_{levels}_quick.png")
            # Then the variant Keep would add, once the artist pauses.
            if not next_preview() or not live.settled:
                raise RuntimeError(f"no settled live result at {levels} levels")
            if repeat:
                latencies.append(quick_at - ended)
                settling.append(shown[-1] - ended)
                server = server_timing(values["server_url"], values["token"], probe.job_id)
                breakdowns.append(probe.stages(ended, quick_at, server))
        # The main thread's share of showing a result: the same pixels written again.
        layer = live_layer(document)
        now = controller.host.read_layer(target)
        box = now.box
        data = bytes(layer.pixelData(box.x, box.y, box.width, box.height))
        started = time.perf_counter()
        controller.host.show_live(target, now, data, layer.uniqueId().toString())
        show_ms = (time.perf_counter() - started) * 1000
        save_live(document, out / f"live_{levels}.png")
        results["levels"][str(levels)] = {
            "median_ms": median_ms(latencies),
            "all_ms": [round(t * 1000) for t in latencies],
            "settled_median_ms": median_ms(settling),
            "stages_ms": {
                stage: statistics.median(b[stage] for b in breakdowns) for stage in breakdowns[0]
            },
        }
        results["levels"][str(levels)]["show_live_ms"] = show_ms
    # The sketch as the last previews and Keep see it: the strokes the benchmark added included.
    Image(pixels).save(out / "sketch.png")
    before = {n.uniqueId().toString() for n in document.rootNode().childNodes()}
    # Keep at the default, as an artist's: fast sampling (the model's own steps), upscale on.
    controller.set_params(replace(controller.settings.params, fast_sampling=True))
    started = time.perf_counter()
    controller.keep_live()
    wait(lambda: not controller.state.busy, TIMEOUT)
    results["keep_s"] = time.perf_counter() - started
    for node in document.rootNode().childNodes():
        if node.uniqueId().toString() not in before and node.type() == "grouplayer":
            kept = node.childNodes()[0]
            Image(bytearray(kept.pixelData(LEFT, TOP, SIDE, SIDE))).save(out / "keep.png")
            results["keep_name"] = kept.name()
    results["seed"] = live.seed
    controller.set_live(False)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    for doc in app.documents():
        doc.setModified(False)
    controller.shutdown()


def live_layer(document: Document) -> Any:
    """The document's live layer."""
    return next(n for n in document.rootNode().childNodes() if n.name().endswith(" - live"))


def save_live(document: Document, path: Path) -> None:
    """The live layer's pixels over the sketch's box, as PNG."""
    Image(bytearray(live_layer(document).pixelData(LEFT, TOP, SIDE, SIDE))).save(path)


class Image:
    """A SIDE x SIDE BGRA buffer saved as PNG through Qt."""

    def __init__(self, bgra: bytearray) -> None:
        self.rgba = swap_red_blue(bytes(bgra))

    def save(self, path: Path) -> None:
        """Write the PNG."""
        QImage(self.rgba, SIDE, SIDE, SIDE * 4, QImage.Format.Format_RGBA8888).save(
            str(path), "PNG"
        )
