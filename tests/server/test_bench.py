"""The server benchmark runs end to end and reports its figures."""

from __future__ import annotations

from engine.measure.server_bench import bench_layers, bench_server, resident_memory_mb
from engine.request import GenerateRequest
from tests.fakes.fake_engine import FakeEngine, sketch


def test_bench_server_reports_times_overhead_and_memory():
    request = GenerateRequest(sketch=sketch(1, 16, 16), count=8, steps=3)
    figures = bench_server(FakeEngine(step_delay=0.001), request, repeats=2)
    assert set(figures) == {
        "repeats",
        "variants",
        "bare_seconds",
        "server_seconds",
        "overhead_seconds",
        "overhead_fraction",
        "idle_rss_mb",
    }
    assert figures["repeats"] == 2 and figures["variants"] == 8
    assert figures["bare_seconds"] > 0 and figures["server_seconds"] > 0
    assert 0.0 <= figures["overhead_fraction"] < 1.0
    assert figures["idle_rss_mb"] > 0


def test_resident_memory_is_positive():
    assert resident_memory_mb() > 0


def test_bench_layers_times_both_sides_with_and_without_the_stage():
    engine = FakeEngine()
    rows = bench_layers(
        engine, lambda side: GenerateRequest(sketch=sketch(2, side, side), count=8), repeats=1
    )
    assert [(row["side"], row["upscale"]) for row in rows] == [
        (256, False),
        (256, True),
        (768, False),
        (768, True),
    ]
    # The server ran what the bench asked for: the layer's size and the stage switch.
    served = [(r.sketch.shape[0], r.upscale) for r in engine.requests]
    assert (768, True) in served and (768, False) in served
    assert all(row["server_seconds"] > 0 for row in rows)
