"""Scenarios run INSIDE real Krita: Krita 5 by `kritarunner -s krita_scenarios -f main`, Krita 6
by the sv_scenario_runner helper plugin (gui_driver/); facts go to a JSON file ($SV_RESULTS) that
the pytest side asserts on."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import traceback
from dataclasses import replace
from typing import Any

from krita import Krita, Selection

sys.path.insert(0, os.environ["SV_PYKRITA"])

import sketch_variants  # noqa: E402  (the installed plugin; it registers itself like at startup)
from krita_harness import wait  # noqa: E402  (packaging/ is on PYTHONPATH)
from sketch_variants.adapter import KritaHost, read_sketch  # noqa: E402
from sketch_variants.controller import Controller  # noqa: E402
from sketch_variants.job_runner import build_request  # noqa: E402
from sketch_variants.qt import QImage, QtCore, QtWidgets  # noqa: E402  (Krita's own binding)
from sketch_variants.values import Job, Params, Target  # noqa: E402

JOB_TIMEOUT = float(os.environ.get("SV_JOB_TIMEOUT", "240"))


def draw_ring(document: Any, name: str, cx: int, cy: int, radius: int) -> Any:
    """A paint layer with a dark 3 px ring, written as BGRA pixels."""
    node = document.createNode(name, "paintlayer")
    document.rootNode().addChildNode(node, None)
    add_ring(node, cx, cy, radius)
    return node


def add_ring(node: Any, cx: int, cy: int, radius: int) -> None:
    """A dark 3 px ring drawn over what a layer holds, through the pixel API (no undo step)."""
    size = 2 * radius + 8
    left, top = cx - size // 2, cy - size // 2
    pixels = bytearray(node.pixelData(left, top, size, size))
    for y in range(size):
        for x in range(size):
            distance = ((x - size / 2) ** 2 + (y - size / 2) ** 2) ** 0.5
            if abs(distance - radius) < 1.5:
                pixels[(y * size + x) * 4 : (y * size + x) * 4 + 4] = bytes([30, 20, 10, 255])
    node.setPixelData(bytes(pixels), left, top, size, size)


def digest(node: Any) -> str:
    """A hash of all of a layer's pixels, to prove it was not modified."""
    return hashlib.sha256(bytes(node.pixelData(0, 0, 400, 300))).hexdigest()


def describe(document: Any, source: Any) -> dict:
    """The layer stack around `source` and the variants' pixels over its region."""
    parent = source.parentNode()
    siblings = parent.childNodes()
    index = [n.uniqueId() for n in siblings].index(source.uniqueId())
    above = siblings[index + 1] if index + 1 < len(siblings) else None
    box = source.bounds()
    facts = {
        "stack": [n.name() for n in siblings],
        "above_type": above.type() if above else None,
        "above_name": above.name() if above else None,
        "source_box": [box.x(), box.y(), box.width(), box.height()],
        "variants": [],
    }
    if above is not None and above.type() == "grouplayer":
        for layer in reversed(above.childNodes()):
            data = bytes(layer.pixelData(box.x(), box.y(), box.width(), box.height()))
            bounds = layer.bounds()
            facts["variants"].append(
                {
                    "name": layer.name(),
                    "type": layer.type(),
                    "visible": layer.visible(),
                    "opaque_pixels_over_source": sum(1 for a in data[3::4] if a),
                    "bounds": [bounds.x(), bounds.y(), bounds.width(), bounds.height()],
                }
            )
    return facts


def new_document(name: str) -> tuple[Any, Any]:
    """A 400x300 RGBA document shown in a window, so it is the active document with a view."""
    app = Krita.instance()
    document = app.createDocument(400, 300, name, "RGBA", "U8", "", 72.0)
    window = app.activeWindow() or app.openWindow()
    window.qwindow().show()
    # Views of earlier documents stay open: this one must be the window's active view, the one
    # setActiveNode and the Layers docker work on.
    view = window.addView(document)
    window.showView(view)
    wait(lambda: window.activeView() is not None and window.activeView().document() == document, 5)
    return document, window


def select_in_layers_docker(window: Any, names: set[str]) -> int:
    """Select layers by name in the Layers docker, as an artist does with Ctrl+click."""
    dock = next(
        d
        for d in window.qwindow().findChildren(QtWidgets.QDockWidget)
        if d.objectName() == "KisLayerBox"
    )
    # The layer tree by name: the docker holds other item views too (its combo boxes' lists).
    tree = dock.findChild(QtWidgets.QTreeView, "listLayers")
    model = tree.model()
    chosen = []

    def visit(parent: Any) -> None:
        for row in range(model.rowCount(parent)):
            index = model.index(row, 0, parent)
            if model.data(index) in names:
                chosen.append(index)
            visit(index)

    visit(tree.rootIndex())
    selection = tree.selectionModel()
    flag = QtCore.QItemSelectionModel.SelectionFlag
    flags = flag.Select | flag.Rows
    selection.clearSelection()
    for index in chosen:
        selection.select(index, flags)
    return len(chosen)


def scenario_generate(controller: Controller) -> dict:
    """Generate on the active layer: a group of variants above it, the sketch unchanged."""
    document, _ = new_document("generate")
    sketch = draw_ring(document, "eye sketch", 120, 110, 30)
    document.setActiveNode(sketch)
    wait(
        lambda: document.activeNode() is not None and document.activeNode().name() == "eye sketch",
        5,
    )
    before = digest(sketch)
    controller.generate_active()
    wait(lambda: not controller.state.busy, JOB_TIMEOUT)
    facts = describe(document, sketch)
    facts.update(sketch_unchanged=digest(sketch) == before, message=controller.state.message)
    facts["thumbnails"] = len(controller.state.thumbnails)
    return facts


def scenario_fill_selected(controller: Controller) -> dict:
    """Fill two layers selected in the Layers docker: each gets its own group above it."""
    document, window = new_document("fill")
    first = draw_ring(document, "left sketch", 90, 150, 25)
    second = draw_ring(document, "right sketch", 300, 150, 35)
    document.setActiveNode(second)
    wait(lambda: False, 1)  # let the Layers docker catch up with the new layers
    selected_rows = select_in_layers_docker(window, {"left sketch", "right sketch"})
    wait(lambda: len(window.activeView().selectedNodes()) == 2, 5)
    selected = [n.name() for n in window.activeView().selectedNodes()]
    before = (digest(first), digest(second))
    controller.fill_selected()
    wait(lambda: not controller.state.busy, 2 * JOB_TIMEOUT)
    return {
        "selected_rows": selected_rows,
        "selected": selected,
        "left": describe(document, first),
        "right": describe(document, second),
        "unchanged": (digest(first), digest(second)) == before,
        "message": controller.state.message,
    }


def scenario_engine_down(controller: Controller) -> dict:
    """Nothing answers and no engine is installed: the artist is told what to do."""
    document, _ = new_document("down")
    sketch = draw_ring(document, "lonely sketch", 100, 100, 20)
    document.setActiveNode(sketch)
    controller.update_settings(
        replace(
            controller.settings,
            server_url="http://127.0.0.1:9",  # the discard port: nothing listens there
            engine_command="/nonexistent/sketch-variants/python -m engine serve --port 0",
        )
    )
    controller.generate_active()
    wait(lambda: not controller.state.busy, 30)
    return {
        "status": controller.state.status,
        "message": controller.state.message,
        "busy": controller.state.busy,
        "stack": [n.name() for n in document.rootNode().childNodes()],
    }


def scenario_refusals(controller: Controller) -> dict:
    """A group, an empty layer and a 16-bit image get messages, not tracebacks."""
    document, _ = new_document("refusals")
    group = document.createGroupLayer("a group")
    document.rootNode().addChildNode(group, None)
    empty = document.createNode("empty layer", "paintlayer")
    document.rootNode().addChildNode(empty, None)
    # Read directly: setActiveNode is asynchronous in Krita, and the controller's handling of
    # these messages is covered by the unit tests.
    messages = [read_sketch(document, group), read_sketch(document, empty)]
    deep = Krita.instance().createDocument(64, 64, "deep", "RGBA", "U16", "", 72.0)
    layer = deep.createNode("deep sketch", "paintlayer")
    deep.rootNode().addChildNode(layer, None)
    messages.append(read_sketch(deep, layer))
    selection = Selection()
    selection.select(10, 10, 20, 20, 255)
    document.setSelection(selection)
    messages.append(read_sketch(document, empty))
    return {"messages": messages}


def scenario_channel_order(_controller: Controller) -> dict:
    """Krita's own rendering says which colour a layer holds; the sketch read must agree."""
    document, _ = new_document("channels")
    layer = document.createNode("blue", "paintlayer")
    document.rootNode().addChildNode(layer, None)
    layer.setPixelData(bytes([255, 0, 0, 255]) * (16 * 16), 0, 0, 16, 16)  # first byte = blue?
    document.refreshProjection()
    document.waitForDone()
    colour = document.thumbnail(400, 300).pixelColor(8, 8)
    sketch = read_sketch(document, layer)
    target = Target(document, layer.uniqueId().toString(), layer.name())
    png = build_request(Job(target, sketch, Params(), seed=0)).sketch_png  # what the engine gets
    sent = QImage.fromData(png, "PNG").pixelColor(0, 0)
    return {
        "rendered_rgb": [colour.red(), colour.green(), colour.blue()],
        "sketch_rgba": [sent.red(), sent.green(), sent.blue(), sent.alpha()],
    }


def scenario_live(controller: Controller) -> dict:
    """Live through the actions: one live layer above the sketch follows two changes; Keep; off."""
    # The actions drive the plugin's own controller: give it the engine the scenarios use.
    live = sketch_variants.CONTROLLER
    live.update_settings(controller.settings)
    document, _ = new_document("live")
    sketch = draw_ring(document, "live sketch", 200, 150, 40)
    document.setActiveNode(sketch)
    wait(lambda: getattr(document.activeNode(), "name", str)() == "live sketch", 5)
    app = Krita.instance()

    def live_layers() -> list:
        return [n for n in document.rootNode().childNodes() if n.name() == "live sketch - live"]

    app.action("sketch_variants_live").trigger()
    # Each change shows its quick preview, then settles on the variant Keep would add.
    wait(lambda: bool(live_layers()) and live.live.settled, JOB_TIMEOUT)
    facts: dict[str, Any] = {"on": live.state.live, "changes": []}
    shown = digest(live_layers()[0]) if live_layers() else ""
    for cx, cy, radius in ((150, 120, 15), (250, 180, 20)):  # two more rings on the sketch
        add_ring(sketch, cx, cy, radius)
        wait(
            lambda: bool(live_layers()) and digest(live_layers()[0]) != shown and live.live.settled,  # noqa: B023
            JOB_TIMEOUT,
        )
        now = digest(live_layers()[0]) if live_layers() else ""
        facts["changes"].append(
            {
                "stack": [n.name() for n in document.rootNode().childNodes()],
                "live_changed": now != shown,
                "opaque": sum(
                    1 for a in bytes(live_layers()[0].pixelData(0, 0, 400, 300))[3::4] if a
                )
                if live_layers()
                else 0,
            }
        )
        shown = now
    sketch_digest = digest(sketch)
    # Updates write pixels only: the newest undo step is still the live layer's creation.
    app.action("edit_undo").trigger()
    wait(lambda: not live_layers(), 10)
    facts["stack_after_undo"] = [n.name() for n in document.rootNode().childNodes()]
    add_ring(sketch, 200, 150, 10)  # the next change puts a live layer back
    sketch_digest = digest(sketch)
    wait(lambda: bool(live_layers()), JOB_TIMEOUT)
    facts["stack_after_next_change"] = [n.name() for n in document.rootNode().childNodes()]
    app.action("sketch_variants_live_keep").trigger()
    wait(lambda: not live.state.busy, JOB_TIMEOUT)
    facts["after_keep"] = describe(document, sketch)
    facts["still_on"] = live.state.live
    app.action("sketch_variants_live").trigger()
    facts["after_off"] = [n.name() for n in document.rootNode().childNodes()]
    facts["off"] = not live.state.live
    facts["sketch_unchanged"] = digest(sketch) == sketch_digest
    return facts


def scenario_train(controller: Controller) -> dict:
    """With no engine running, select two layers and start a quick training from the docker's
    dialog: the plugin starts the engine ($SV_ENGINE_COMMAND), and the new model appears."""
    from sketch_variants import training_runner
    from sketch_variants.panel import Panel

    training_runner.LENGTHS["quick"] = 3  # steps: the tiny test model, not a 5-minute training
    controller.update_settings(
        replace(
            controller.settings,
            server_url="",
            last_engine_url="",
            engine_command=os.environ["SV_ENGINE_COMMAND"],
        )
    )
    status_before = controller.state.status.value
    statuses: list[str] = []
    controller.changed.connect(lambda: statuses.append(controller.state.status.value))
    document, window = new_document("train")
    draw_ring(document, "drawing one", 100, 150, 30)
    second = draw_ring(document, "drawing two", 280, 150, 40)
    document.setActiveNode(second)
    wait(lambda: False, 1)  # let the Layers docker catch up with the new layers
    select_in_layers_docker(window, {"drawing one", "drawing two"})
    wait(lambda: len(window.activeView().selectedNodes()) == 2, 5)
    panel = Panel(controller)
    dialog = panel.open_training()
    dialog.source.setCurrentText("selected layers")
    dialog.name.setText("krita test")
    seen = []
    controller.training.changed.connect(lambda: seen.append(controller.training.state.step))
    shown = []  # what the dialog's progress bar said, after its own refresh
    controller.training.changed.connect(lambda: shown.append(dialog.progress.format()))
    dialog.start_button.click()
    wait(lambda: controller.training.state.running, 10)
    # The picker asks the engine for its models once the started engine is connected.
    wait(lambda: panel.model.loaded and panel.model.count() >= 1, 120)
    wait(lambda: panel.model.itemData(0) == "default", 30)
    before = panel.model.names()
    wait(lambda: not controller.training.state.running, JOB_TIMEOUT)
    wait(lambda: "krita test" in panel.model.names(), 30)
    return {
        "status_before": status_before,
        "statuses": statuses,
        "progress_shown": shown,
        "selected": [n.name() for n in window.activeView().selectedNodes()],
        "message": controller.training.state.message,
        "progress_seen": any(step > 0 for step in seen),
        "total": controller.training.state.total,
        "picker_before": before,
        "picker_after": panel.model.names(),
    }


SCENARIOS = {
    "train": scenario_train,
    "channel_order": scenario_channel_order,
    "generate": scenario_generate,
    "fill_selected": scenario_fill_selected,
    "refusals": scenario_refusals,
    "live": scenario_live,
    "engine_down": scenario_engine_down,  # last: it changes the controller's settings
}


def main(*_args: object) -> None:
    """Run the scenarios named in $SV_SCENARIOS (all by default) and write their facts."""
    results = {"registered": hasattr(sketch_variants, "CONTROLLER")}
    # kritarunner keeps its settings in kritarunnerrc, not kritarc: put the engine's address where
    # this Krita program keeps them, through the same Krita settings API the plugin reads.
    for key in ("server_url", "token", "count", "steps", "radius"):
        Krita.instance().writeSetting("sketch_variants", key, os.environ["SV_" + key.upper()])
    controller = Controller(KritaHost())
    results["settings_url"] = controller.settings.server_url
    names = os.environ.get("SV_SCENARIOS", ",".join(SCENARIOS)).split(",")
    for name in names:
        started = time.monotonic()
        try:
            results[name] = SCENARIOS[name](controller)
        except Exception:  # report, so pytest shows what went wrong inside Krita
            results[name] = {"error": traceback.format_exc()}
        results[name]["seconds"] = round(time.monotonic() - started, 1)
        with open(os.environ["SV_RESULTS"], "w") as out:
            json.dump(results, out, indent=1)
    controller.shutdown()
