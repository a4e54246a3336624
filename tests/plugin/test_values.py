"""Plain-value modules: SSE parsing, pixel conversion and PNG, settings, naming, ready line."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sketch_variants import settings as settings_module
from sketch_variants.engine_process import parse_ready_line
from sketch_variants.job_runner import ImagesRefused, decode_variants
from sketch_variants.naming import group_name, variant_name
from sketch_variants.pixels import (
    decode_png_bgra,
    encode_png,
    is_transparent,
    png_size,
    swap_red_blue,
)
from sketch_variants.sse import SseEvent, SseParser
from sketch_variants.values import Box, JobRequest, Params, Variant

from engine.server.payload import JobRequest as ServerJobRequest

STREAM = (
    b": keep-alive\n\n"
    b'event: progress\ndata: {"step": 1, "total": 4}\n\n'
    b'event: progress\r\ndata: {"step": 2,\r\ndata:  "total": 4}\r\n\r\n'
    b'event: state\ndata: {"state": "done"}\n\n'
)
EXPECTED = [
    SseEvent("progress", '{"step": 1, "total": 4}'),
    SseEvent("progress", '{"step": 2,\n "total": 4}'),
    SseEvent("state", '{"state": "done"}'),
]


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_sse_events_survive_any_split_of_the_stream(cuts: list[int]) -> None:
    parser = SseParser()
    events: list[SseEvent] = []
    edges = [0, *sorted(cuts), len(STREAM)]
    for start, end in zip(edges, edges[1:], strict=False):
        events += parser.feed(STREAM[start:end])
    assert events == EXPECTED


def test_red_and_blue_swap_both_ways() -> None:
    bgra = bytes([1, 2, 3, 4, 5, 6, 7, 8])
    assert swap_red_blue(bgra) == bytes([3, 2, 1, 4, 7, 6, 5, 8])
    assert swap_red_blue(swap_red_blue(bgra)) == bgra


def test_transparency() -> None:
    assert is_transparent(bytes(16))
    assert not is_transparent(bytes([0, 0, 0, 0, 0, 0, 0, 1]))


def test_png_round_trip_keeps_straight_alpha_and_gives_krita_order() -> None:
    rgba = bytes([255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0, 10, 20, 30, 40])
    png = encode_png(rgba, 2, 2)
    assert png.startswith(b"\x89PNG")
    assert decode_png_bgra(png, 2, 2) == swap_red_blue(rgba)
    assert len(decode_png_bgra(png, 4, 6)) == 4 * 6 * 4  # scaled when the engine's size differs
    assert decode_png_bgra(b"not a png", 2, 2) is None


def test_job_request_json_matches_the_server_api() -> None:
    body = json.loads(JobRequest(b"PNG", "sdedit", 4, 7, 1042, 16, 0.5).to_json())
    assert body == {
        "sketch_png": base64.b64encode(b"PNG").decode(),
        "mode": "sdedit",
        "count": 4,
        "radius": 7,
        "seed": 1042,
        "steps": 16,
        "upscale": True,
        "strength": 0.5,
    }
    assert "strength" not in json.loads(JobRequest(b"", "mask", 1, 3, 0, 16).to_json())
    # Clean fills go only when off, so an engine from before the setting takes the default jobs.
    assert "clean_fills" not in body
    plain = JobRequest(b"PNG", "mask", 1, 3, 0, 16, clean_fills=False)
    request = ServerJobRequest.model_validate(json.loads(plain.to_json()))
    assert request.parameters().clean_fills is False


def test_names_carry_the_number_seed_and_radius() -> None:
    assert variant_name("eye sketch", 3, 1042, 7) == "eye sketch - variant 3 (seed 1042, r 7)"
    assert group_name("eye sketch") == "eye sketch - variants"


def test_box_intersection() -> None:
    assert Box(5, 5, 10, 10).intersected(Box(0, 0, 8, 20)) == Box(5, 5, 3, 10)
    assert Box(5, 5, 10, 10).intersected(Box(30, 30, 5, 5)).empty


def test_settings_round_trip_and_bad_values_fall_back() -> None:
    store: dict[str, str] = {}
    chosen = settings_module.Settings(
        params=Params(count=6, radius=9, mode="noise", strength=0.3, seed=77, new_seed=False),
        server_url="http://gpu-box:8731",
        token="secret",
        keep_engine_running=True,
    )
    settings_module.save(chosen, store.__setitem__)
    assert settings_module.load(lambda key, default: store.get(key, default)) == chosen
    broken = {"count": "lots", "radius": "99", "mode": "magic", "strength": "2", "new_seed": "?"}
    loaded = settings_module.load(lambda key, default: broken.get(key, default))
    assert loaded.params == Params()


def test_token_comes_from_settings_or_the_xdg_config_token_file(isolated_home: Path) -> None:
    assert settings_module.read_token(settings_module.Settings()) == ""
    token_file = isolated_home / "config" / "sketch-variants" / "token"
    token_file.parent.mkdir(parents=True)
    token_file.write_text("from-file\n")
    assert settings_module.read_token(settings_module.Settings()) == "from-file"
    assert settings_module.read_token(settings_module.Settings(token="remote")) == "remote"


def test_engine_command_prefers_setting_then_installed_then_checkout(isolated_home: Path) -> None:
    argv, _ = settings_module.engine_command(
        settings_module.Settings(engine_command="eng --x 'a b'")
    )
    assert argv == ["eng", "--x", "a b"]
    argv, cwd = settings_module.engine_command(settings_module.Settings())
    repo = settings_module.repo_root()
    assert argv == [str(repo / ".venv/bin/python"), "-m", "engine", "serve", "--port", "0"]
    assert cwd == str(repo)
    installed = isolated_home / "data" / "sketch-variants" / "venv" / "bin" / "python"
    installed.parent.mkdir(parents=True)
    installed.touch()
    argv, _ = settings_module.engine_command(settings_module.Settings())
    assert argv[0] == str(installed)


@pytest.mark.parametrize(
    ("line", "url"),
    [
        ("ENGINE_READY http://127.0.0.1:8731\n", "http://127.0.0.1:8731"),
        ("ENGINE_READY  http://[::1]:9 ", "http://[::1]:9"),
        ("engine: loading model", None),
        ("ENGINE_READY nonsense", None),
    ],
)
def test_ready_line(line: str, url: str | None) -> None:
    assert parse_ready_line(line) == url


def test_the_worker_delivers_results_and_errors_on_the_main_thread() -> None:
    import threading

    from plugin_helpers import wait_for
    from sketch_variants.worker import Worker

    worker = Worker()
    seen: list[tuple[str, object, bool]] = []
    main = threading.current_thread()
    worker.run(
        lambda: threading.current_thread() is not main,
        lambda result: seen.append(("done", result, threading.current_thread() is main)),
        lambda error: seen.append(("error", error, False)),
    )
    worker.run(
        lambda: 1 / 0,
        lambda result: seen.append(("done", result, False)),
        lambda error: seen.append(
            ("error", type(error).__name__, threading.current_thread() is main)
        ),
    )
    wait_for(lambda: len(seen) == 2)
    assert sorted(seen, key=str) == [("done", True, True), ("error", "ZeroDivisionError", True)]


def test_plugin_limits_and_defaults_match_the_engine():
    """Krita's Python cannot import the engine, so the plugin keeps copies; they must agree."""
    from sketch_variants import values as plugin_values

    from engine import request as engine_request

    assert plugin_values.MODES == engine_request.MODES
    assert plugin_values.RADIUS_RANGE == engine_request.RADIUS_RANGE
    assert plugin_values.COUNT_RANGE == engine_request.COUNT_RANGE
    assert plugin_values.STEPS_RANGE == engine_request.STEPS_RANGE
    assert plugin_values.SEED_MAX == engine_request.SEED_RANGE[1]
    assert plugin_values.DEFAULT_RADIUS == engine_request.DEFAULT_RADIUS
    assert plugin_values.DEFAULT_SDEDIT_STRENGTH == engine_request.DEFAULT_STRENGTH["sdedit"]


def test_the_local_token_goes_only_to_loopback_addresses(isolated_home: Path) -> None:
    token_file = isolated_home / "config" / "sketch-variants" / "token"
    token_file.parent.mkdir(parents=True)
    token_file.write_text("local-secret\n")
    blank = settings_module.Settings()
    for local in (
        "http://127.0.0.1:8731",
        "http://localhost:1",
        "http://[::1]:9",
        "http://127.0.0.2",
    ):
        assert settings_module.token_for(blank, local) == "local-secret", local
    for remote in ("http://gpu-box:8731", "http://192.168.1.5:8731", "http://127.0.0.1.evil.net"):
        assert settings_module.token_for(blank, remote) is None, remote
    studio = settings_module.Settings(server_url="http://gpu-box:8731", token="studio")
    assert settings_module.token_for(studio, "http://gpu-box:8731") == "studio"


def test_png_size_is_read_from_the_header_without_decoding() -> None:
    png = encode_png(bytes(4 * 3 * 4), 4, 3)
    assert png_size(png) == (4, 3)
    assert png_size(png[:20]) is None and png_size(b"GIF89a" + png[6:]) is None


def test_variants_larger_than_the_layer_are_refused_before_decoding() -> None:
    small, huge = encode_png(bytes(4 * 3 * 4), 4, 3), encode_png(bytes(8 * 3 * 4), 8, 3)
    assert [seed for seed, _ in decode_variants([Variant(1, small)], 4, 3)] == [1]
    assert decode_variants([Variant(1, b"not a png")], 4, 3) == []
    with pytest.raises(ImagesRefused, match="sent a 8 x 3 image for a 4 x 3 layer"):
        decode_variants([Variant(1, small), Variant(2, huge)], 4, 3)


def test_the_ready_line_prefix_matches_the_engines() -> None:
    """Krita's Python cannot import the engine, so the plugin keeps its own copy of the prefix."""
    from sketch_variants import engine_process

    from engine.server import ready

    assert engine_process.READY_PREFIX == ready.READY_PREFIX
    url = "http://127.0.0.1:8731"
    assert parse_ready_line(ready.ready_line(url)) == ready.parse_ready_line(ready.ready_line(url))
