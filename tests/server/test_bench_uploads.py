"""The upload benchmark runs end to end against a real `serve` process and reports its figures."""

from __future__ import annotations

from engine.measure.upload_bench import bench_uploads, report


def test_bench_uploads_reports_memory_answer_times_refusals_and_shutdown(tiny_model_dir):
    figures = bench_uploads(tiny_model_dir, uploads=2, drawings=8, side=1024, refusals=2)
    assert figures["statuses"] == [202, 202]
    assert all(seconds > 0 for seconds in figures["answer_seconds"])
    assert figures["baseline_rss_mb"] > 0
    assert 0 <= figures["added_before_first_mb"] <= figures["added_rss_mb"]
    assert len(figures["queue_full_seconds"]) == 2
    assert figures["sigterm_exit_code"] == 0 and figures["sigterm_seconds"] > 0
    lines = report(figures).splitlines()
    assert lines[0] == "2 concurrent uploads of 8 drawings (23 KB PNGs each)"
    assert lines[3].startswith("full queue: 429 in ")
