"""Run inside Krita by `kritarunner -s krita_demo -f main`: the example sketch to a .kra."""

import json
import os
import sys
import traceback

from krita import Krita

sys.path.insert(0, os.environ["SV_PYKRITA"])

# The harness the real-Krita tests use too (packaging/ is on PYTHONPATH), so both drive Krita alike.
from krita_harness import wait  # noqa: E402
from sketch_variants.adapter import KritaHost  # noqa: E402
from sketch_variants.controller import Controller  # noqa: E402
from sketch_variants.qt import QImage  # noqa: E402  (Krita 5's PyQt5 or Krita 6's PyQt6)

JOB_TIMEOUT = float(os.environ.get("SV_JOB_TIMEOUT", "600"))
LAYER_NAME = "eye sketch"


def load_sketch(document, path):
    """Copy the sketch PNG into a new paint layer of `document`; return the layer."""
    image = QImage(path).convertToFormat(QImage.Format.Format_ARGB32)
    node = document.createNode(LAYER_NAME, "paintlayer")
    document.rootNode().addChildNode(node, None)
    # Krita's RGBA U8 layers take BGRA bytes, which is ARGB32's memory order on little-endian.
    pixels = image.constBits().asstring(image.sizeInBytes())
    node.setPixelData(pixels, 0, 0, image.width(), image.height())
    return node


def make_kra(controller):
    """Generate variants of the example sketch through the plugin and save the document."""
    sketch_path, kra_path = os.environ["SV_SKETCH"], os.environ["SV_KRA"]
    size = QImage(sketch_path).size()
    app = Krita.instance()
    document = app.createDocument(size.width(), size.height(), "demo", "RGBA", "U8", "", 72.0)
    # Shown in a window, so it is the active document with a view, as for an artist.
    window = app.activeWindow() or app.openWindow()
    window.qwindow().show()
    window.addView(document)
    sketch = load_sketch(document, sketch_path)
    document.setActiveNode(sketch)
    wait(lambda: getattr(document.activeNode(), "name", lambda: "")() == LAYER_NAME, 5)
    controller.generate_active()
    wait(lambda: not controller.state.busy, JOB_TIMEOUT)
    document.setBatchmode(True)  # no "file exists" or export dialogs in a headless run
    saved = document.saveAs(kra_path)
    return {
        "saved": bool(saved) and os.path.exists(kra_path),
        "message": controller.state.message,
        "layers": [node.name() for node in document.topLevelNodes()],
    }


def main(*_args):
    """Run the demo inside Krita and write what happened to $SV_RESULTS."""
    # kritarunner reads settings from kritarunnerrc: point the plugin at the demo's engine there.
    for key in ("server_url", "token", "count"):
        Krita.instance().writeSetting("sketch_variants", key, os.environ["SV_" + key.upper()])
    controller = Controller(KritaHost())
    try:
        result = make_kra(controller)
    except Exception:  # reported to the demo, which runs outside Krita
        result = {"saved": False, "error": traceback.format_exc()}
    finally:
        controller.shutdown()
    with open(os.environ["SV_RESULTS"], "w") as out:
        json.dump(result, out, indent=1)
