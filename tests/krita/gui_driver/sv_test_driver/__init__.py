"""A helper plugin for the GUI test, loaded next to Sketch Variants in a throwaway Krita home.

It opens a document with a sketch layer, shows the Sketch Variants docker, tells the test where the
canvas is, then watches for the variants the test asks for with a real key press (xdotool). If none
arrive in time it triggers the action itself, and reports which of the two inserted them."""

from __future__ import annotations

import json
import os
import time

from krita import Krita
from sketch_variants.qt import QTimer, QtWidgets  # Krita 5's PyQt5 or Krita 6's PyQt6

QApplication, QDockWidget, QMdiArea = (
    QtWidgets.QApplication,
    QtWidgets.QDockWidget,
    QtWidgets.QMdiArea,
)

OUT = os.environ.get("SV_DRIVER_DIR", "")
KEY_WAIT_S = float(os.environ.get("SV_KEY_WAIT", "30"))
JOB_WAIT_S = float(os.environ.get("SV_JOB_WAIT", "240"))


def write(name: str, data: dict) -> None:
    """Write one JSON file for the test, atomically."""
    path = os.path.join(OUT, name)
    with open(path + ".tmp", "w") as out:
        json.dump(data, out, indent=1)
    os.replace(path + ".tmp", path)


class Driver:
    """The steps of the GUI test on Krita's side, each run from Krita's event loop."""

    def __init__(self) -> None:
        self.state = "waiting for window"
        self.document = None
        self.sketch = None
        self.started = 0.0
        self.trigger = ""
        self.timer = QTimer()
        self.timer.timeout.connect(self.tick)
        self.timer.start(250)

    def tick(self) -> None:
        """One step of the state machine; any error is reported, never raised into Krita."""
        try:
            getattr(self, "step_" + self.state.replace(" ", "_"))()
        except Exception as error:  # report to the test instead of a dialog nobody sees
            import traceback

            write("result.json", {"error": f"{error!r}\n{traceback.format_exc()}"})
            self.timer.stop()

    def step_waiting_for_window(self) -> None:
        window = Krita.instance().activeWindow()
        if window is None:
            return
        app = Krita.instance()
        document = app.createDocument(500, 360, "gui sketch", "RGBA", "U8", "", 72.0)
        sketch = document.createNode("eye sketch", "paintlayer")
        document.rootNode().addChildNode(sketch, None)
        size, radius = 90, 36
        pixels = bytearray(size * size * 4)
        for y in range(size):
            for x in range(size):
                if abs(((x - size / 2) ** 2 + (y - size / 2) ** 2) ** 0.5 - radius) < 2:
                    pixels[(y * size + x) * 4 : (y * size + x) * 4 + 4] = bytes([40, 30, 20, 255])
        sketch.setPixelData(bytes(pixels), 200, 130, size, size)
        # No window manager under Xvfb: size the main window to the screen ourselves.
        window.qwindow().setGeometry(QApplication.primaryScreen().availableGeometry())
        window.addView(document)
        document.setActiveNode(sketch)
        self.document, self.sketch = document, sketch
        # The pan tool, so the test's click focuses the canvas without painting on the sketch.
        app.action("PanTool").trigger()
        self.state = "showing docker"

    def step_showing_docker(self) -> None:
        window = Krita.instance().activeWindow().qwindow()
        dock = next(
            (
                d
                for d in window.findChildren(QDockWidget)
                if d.objectName() == "sketch_variants_docker"
            ),
            None,
        )
        if dock is None:
            return
        dock.setFloating(False)
        dock.show()
        dock.raise_()
        area = window.centralWidget().findChild(QMdiArea)
        canvas = area.activeSubWindow().widget() if area and area.activeSubWindow() else area
        centre = canvas.mapToGlobal(canvas.rect().center())
        write(
            "ready.json",
            {
                "canvas": [centre.x(), centre.y()],
                "docker_visible": dock.isVisible(),
                "docker_title": dock.windowTitle(),
                "docker_toggles": sorted(
                    box.text() for box in dock.findChildren(QtWidgets.QCheckBox) if box.text()
                ),
                "active_layer": self.document.activeNode().name(),
            },
        )
        self.started = time.monotonic()
        self.state = "waiting for shortcut"

    def variants(self) -> list:
        """The variant groups in the test document."""
        nodes = self.document.rootNode().childNodes()
        return [n for n in nodes if n.type() == "grouplayer" and n.name().endswith(" - variants")]

    def step_waiting_for_shortcut(self) -> None:
        if self.variants() or _busy():
            self.trigger = "shortcut"
            self.state = "waiting for variants"
        elif os.path.exists(os.path.join(OUT, "key-sent")) and (
            time.monotonic() - os.path.getmtime(os.path.join(OUT, "key-sent")) > KEY_WAIT_S
            or time.monotonic() - self.started > KEY_WAIT_S * 3
        ):
            self.trigger = "action"
            Krita.instance().action("sketch_variants_generate").trigger()
            self.state = "waiting for variants"
        self.started_job = time.monotonic()

    def step_waiting_for_variants(self) -> None:
        groups = self.variants()
        if (groups and not _busy()) or time.monotonic() - self.started_job > JOB_WAIT_S:
            self.state = "reporting"
            QTimer.singleShot(1500, self.report)  # let the canvas and the docker repaint

    def step_reporting(self) -> None:
        pass

    def report(self) -> None:
        """Screenshot, facts for the test, then quit Krita."""
        window = Krita.instance().activeWindow().qwindow()
        screen = QApplication.primaryScreen().grabWindow(0)
        screen.save(os.environ["SV_SCREENSHOT"], "PNG")
        groups = self.variants()
        layers = []
        for group in groups:
            for layer in reversed(group.childNodes()):
                box = self.sketch.bounds()
                data = bytes(layer.pixelData(box.x(), box.y(), box.width(), box.height()))
                layers.append({"name": layer.name(), "opaque": sum(1 for a in data[3::4] if a)})
        import sketch_variants

        state = sketch_variants.CONTROLLER.state
        write(
            "result.json",
            {
                "trigger": self.trigger,
                "stack": [n.name() for n in self.document.rootNode().childNodes()],
                "layers": layers,
                "message": state.message,
                "status": state.status,
                "window": [window.width(), window.height()],
            },
        )
        self.timer.stop()
        for document in Krita.instance().documents():
            document.setModified(False)
        QTimer.singleShot(500, lambda: Krita.instance().action("file_quit").trigger())


def _busy() -> bool:
    """Whether the plugin has a job running or queued."""
    import sketch_variants

    return sketch_variants.CONTROLLER.state.busy


if OUT:
    DRIVER = Driver()
