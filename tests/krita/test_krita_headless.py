"""The plugin in real Krita 5 and 6 (under Xvfb) with the real engine server: generate, fill
two selected layers, refusals, engine down. One Krita run; each test checks one scenario's facts."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import RealKrita
from krita_harness import ARTIFACTS, KritaHome, run_krita
from krita_harness import HERE as PACKAGING
from krita_system import HERE

SCENARIOS = "channel_order,generate,fill_selected,refusals,live,engine_down"
COUNT = 2  # variants per sketch: enough to check numbering, cheap on a CPU


@pytest.fixture(scope="module")
def facts(
    real_krita: RealKrita,
    krita_home: KritaHome,
    engine: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict:
    """Run every scenario inside one Krita process and read what it observed."""
    results = tmp_path_factory.mktemp("scenarios") / "results.json"
    run = run_krita(
        krita_home,
        real_krita.scenarios,
        timeout=420,
        log_name=f"scenarios-{real_krita.name}.log",
        PYTHONPATH=os.pathsep.join([str(HERE), str(PACKAGING)]),  # the scenarios, the harness
        SV_RESULTS=str(results),
        SV_SCENARIOS=SCENARIOS,
        SV_SERVER_URL=engine.url,
        SV_TOKEN=engine.token,
        SV_COUNT=str(COUNT),
        SV_STEPS="4",
        SV_RADIUS="3",
    )
    assert results.exists(), f"Krita wrote no results:\n{run.stderr[-3000:]}"
    data = json.loads(results.read_text())
    for name in SCENARIOS.split(","):
        assert "error" not in data.get(name, {}), data.get(name, {}).get("error")
    return data


def _check_variants(layer: dict, name: str) -> None:
    assert layer["above_type"] == "grouplayer"
    assert layer["above_name"] == f"{name} - variants"
    variants = layer["variants"]
    assert len(variants) == COUNT
    for number, variant in enumerate(variants, start=1):
        assert variant["name"].startswith(f"{name} - variant {number} (seed ")
        assert variant["name"].endswith(", r 3)")
        assert variant["type"] == "paintlayer"
        assert variant["opaque_pixels_over_source"] > 0
        # Placed over the sketch's region: the variant's pixels lie inside the sketch's box.
        x, y, w, h = variant["bounds"]
        sx, sy, sw, sh = layer["source_box"]
        assert sx <= x and sy <= y and x + w <= sx + sw and y + h <= sy + sh
    assert [v["visible"] for v in variants] == [True] + [False] * (COUNT - 1)


def test_the_plugin_registers_itself_in_krita(facts: dict) -> None:
    assert facts["registered"]


def test_the_sketch_is_read_in_rgba_order_as_krita_renders_it(facts: dict) -> None:
    # Krita keeps RGBA/U8 pixels as B, G, R, A: the layer written with a leading 255 is blue.
    assert facts["channel_order"]["rendered_rgb"] == [0, 0, 255]
    assert facts["channel_order"]["sketch_rgba"] == [0, 0, 255, 255]


def test_generate_puts_variants_in_a_group_above_the_sketch(facts: dict) -> None:
    generate = facts["generate"]
    assert generate["stack"] == ["Background", "eye sketch", "eye sketch - variants"]
    _check_variants(generate, "eye sketch")
    assert generate["sketch_unchanged"]
    assert generate["message"] == f"{COUNT} variants of 'eye sketch' added."
    assert generate["thumbnails"] == COUNT


def test_fill_selected_gives_both_selected_layers_their_variants(facts: dict) -> None:
    fill = facts["fill_selected"]
    assert sorted(fill["selected"]) == ["left sketch", "right sketch"]
    assert fill["left"]["stack"] == [
        "Background",
        "left sketch",
        "left sketch - variants",
        "right sketch",
        "right sketch - variants",
    ]
    _check_variants(fill["left"], "left sketch")
    _check_variants(fill["right"], "right sketch")
    assert fill["unchanged"]


def test_groups_empty_layers_and_16_bit_images_get_messages(facts: dict) -> None:
    group, empty, deep, outside = facts["refusals"]["messages"]
    assert group == "'a group' is a group: select the paint layer with the sketch inside it."
    assert empty == "'empty layer' has nothing drawn: draw a sketch on it first."
    assert "RGBA U16" in deep and "Image > Convert Image Color Space" in deep
    assert "inside the selection" in outside


def test_live_follows_the_sketch_in_one_layer_keep_adds_a_variant_and_off_removes_it(
    facts: dict,
) -> None:
    live = facts["live"]
    assert live["on"]
    stack = ["Background", "live sketch", "live sketch - live"]
    for change in live["changes"]:  # after each of two changes of the sketch's pixels
        assert change["stack"] == stack  # one live layer, directly above the sketch
        assert change["live_changed"] and change["opaque"] > 0
    # The live updates added no undo step: one undo removes the live layer, not an update.
    assert live["stack_after_undo"] == ["Background", "live sketch"]
    assert live["stack_after_next_change"] == stack
    kept = live["after_keep"]
    assert kept["stack"] == [*stack[:2], "live sketch - variants", "live sketch - live"]
    assert kept["variants"][0]["name"].startswith("live sketch - variant 1 (seed ")
    assert kept["variants"][0]["opaque_pixels_over_source"] > 0
    assert live["still_on"] and live["off"]
    assert live["after_off"] == ["Background", "live sketch", "live sketch - variants"]
    assert live["sketch_unchanged"]


def test_engine_down_tells_the_artist_what_to_do(facts: dict) -> None:
    down = facts["engine_down"]
    assert down["status"] == "not reachable" and not down["busy"]
    assert down["message"].startswith("Engine not running: click Start, or run `make install`")
    assert down["stack"] == ["Background", "lonely sketch"]


def test_the_krita_log_is_kept(facts: dict, real_krita: RealKrita) -> None:
    assert Path(ARTIFACTS / f"scenarios-{real_krita.name}.log").exists()
