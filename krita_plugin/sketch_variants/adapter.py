"""The only module that reads and writes Krita's documents, layers, pixels and settings."""

from __future__ import annotations

from typing import Any

from krita import Krita

from .naming import group_name, live_name, variant_name
from .pixels import is_transparent
from .settings import GROUP
from .values import Box, Sketch, Target

Found = tuple[list[tuple[Target, Sketch]], list[str]]


class KritaHost:
    """Implements the controller's Host protocol on top of Krita's Python API."""

    def active_sketch(self) -> Found:
        """The active layer's sketch, or why it cannot be used."""
        document = self._document()
        if document is None:
            return [], ["Open a document and select the layer with your sketch first."]
        node = document.activeNode()
        if node is None:
            return [], ["Select the layer with your sketch first."]
        return _collect(document, [node])

    def selected_sketches(self) -> Found:
        """The sketches of every layer selected in the Layers docker (the active one if none)."""
        document = self._document()
        if document is None:
            return [], ["Open a document and select the layers with your sketches first."]
        nodes = []
        window = Krita.instance().activeWindow()
        view = window.activeView() if window is not None else None
        if view is not None and view.document() == document:
            nodes = list(view.selectedNodes())
        if not nodes and document.activeNode() is not None:
            nodes = [document.activeNode()]
        if not nodes:
            return [], ["Select the layers with your sketches first."]
        return _collect(document, nodes)

    def insert_variants(
        self, target: Target, sketch: Sketch, variants: list[tuple[int, bytes]], radius: int
    ) -> bool:
        """Add a group of variant layers directly above the source layer; False if it is gone."""
        document, source = _source(target)
        if source is None:
            return False
        name = source.name()
        group = document.createGroupLayer(group_name(name))
        source.parentNode().addChildNode(group, source)
        box = sketch.box
        # addChildNode(layer, None) puts the layer on top, so adding the last variant first leaves
        # variant 1 on top, the only visible one: the artist toggles through the others.
        for number in range(len(variants), 0, -1):
            seed, bgra = variants[number - 1]
            layer = document.createNode(variant_name(name, number, seed, radius), "paintlayer")
            group.addChildNode(layer, None)
            layer.setPixelData(bgra, box.x, box.y, box.width, box.height)
            layer.setVisible(number == 1)
        document.refreshProjection()
        return True

    def layer_fingerprint(self, target: Target) -> int | None:
        """A number that changes whenever the layer's pixels change; None if it is gone."""
        _, node = _source(target)
        if node is None:
            return None
        # Krita keeps a layer's thumbnail cached until its pixels change (a stroke, an erase, an
        # undo, a script's setPixelData), so the cached image's key counts changes: about a
        # microsecond, with no pixels read. (The thumbnail's pixels would not do: they are
        # sampled, so a thin stroke can miss them.)
        return int(node.thumbnail(8, 8).cacheKey())

    def read_layer(self, target: Target) -> Sketch | str:
        """The target layer's sketch now, or why it cannot be used."""
        document, node = _source(target)
        if node is None:
            return f"'{target.layer_name}' is gone: select a sketch layer and turn Live on again."
        return read_sketch(document, node)

    def show_live(self, target: Target, sketch: Sketch, bgra: bytes, live_id: str) -> str:
        """Put pixels in the one live layer above the sketch, made if missing; its id or ""."""
        document, source = _source(target)
        if source is None:
            return ""
        layer = _find_node(document.rootNode(), live_id) if live_id else None
        if layer is None:
            # Adding a layer is one undo step; later updates only write pixels, which are none.
            layer = document.createNode(live_name(source.name()), "paintlayer")
            source.parentNode().addChildNode(layer, source)
        box = sketch.box
        bounds = layer.bounds()
        old = Box(bounds.x(), bounds.y(), bounds.width(), bounds.height())
        if not old.empty and old.intersected(box) != old:
            # The sketch's box shrank or moved: the old result must not leave edges behind.
            layer.setPixelData(
                bytes(old.width * old.height * 4), old.x, old.y, old.width, old.height
            )
        layer.setPixelData(bgra, box.x, box.y, box.width, box.height)
        # setPixelData does not redraw; Krita's Python API offers only a whole-image refresh.
        document.refreshProjection()
        return layer.uniqueId().toString()

    def remove_live(self, target: Target, live_id: str) -> None:
        """Remove the live layer from the target's document, if both are still there."""
        document = _open_document(target)
        layer = _find_node(document.rootNode(), live_id) if document and live_id else None
        if layer is not None:
            layer.remove()
            document.refreshProjection()

    def read_setting(self, key: str, default: str) -> str:
        """One setting from kritarc's [sketch_variants] section."""
        return str(Krita.instance().readSetting(GROUP, key, default))

    def write_setting(self, key: str, value: str) -> None:
        """Persist one setting in kritarc's [sketch_variants] section."""
        Krita.instance().writeSetting(GROUP, key, value)

    def document_sketches(self) -> Found:
        """The pixels of every paint layer of the active document (drawings to train on)."""
        document = self._document()
        if document is None:
            return [], ["Open the document with your drawings first."]
        return _collect(document, _paint_layers(document.rootNode()))

    def _document(self) -> Any:
        return Krita.instance().activeDocument()


def _paint_layers(node: Any) -> list[Any]:
    """Every paint layer under `node`, inside groups too, bottom to top."""
    layers = []
    for child in node.childNodes():
        if child.type() == "paintlayer":
            layers.append(child)
        layers.extend(_paint_layers(child))
    return layers


def _collect(document: Any, nodes: list[Any]) -> Found:
    found: list[tuple[Target, Sketch]] = []
    problems: list[str] = []
    for node in nodes:
        result = read_sketch(document, node)
        if isinstance(result, str):
            problems.append(result)
        else:
            found.append((Target(document, node.uniqueId().toString(), node.name()), result))
    return found, problems


def read_sketch(document: Any, node: Any) -> Sketch | str:
    """A layer's sketch as 8-bit RGBA over its content box or the selection; else why not."""
    name = node.name()
    kind = node.type()
    if kind == "grouplayer":
        return f"'{name}' is a group: select the paint layer with the sketch inside it."
    if kind == "vectorlayer":
        return (
            f"'{name}' is a vector layer: convert it first (Layer > Convert > to Paint Layer), "
            "or draw the sketch on a paint layer."
        )
    if kind != "paintlayer":
        return f"'{name}' is a {kind}: variants are made from paint layers."
    if node.colorModel() != "RGBA" or node.colorDepth() != "U8":
        return (
            f"'{name}' is {node.colorModel()} {node.colorDepth()}: convert the image to 8-bit "
            "RGBA (Image > Convert Image Color Space), then try again."
        )
    canvas = Box(0, 0, document.width(), document.height())
    selection = document.selection()
    if selection is not None and selection.width() > 0 and selection.height() > 0:
        box = Box(selection.x(), selection.y(), selection.width(), selection.height())
        where = " inside the selection"
    else:
        bounds = node.bounds()
        box = Box(bounds.x(), bounds.y(), bounds.width(), bounds.height())
        where = ""
    box = box.intersected(canvas)
    if box.empty:
        return f"'{name}' has nothing drawn{where}: draw a sketch on it first."
    # Kept in Krita's order: alpha is the 4th byte either way, and the conversion to RGBA runs on
    # a worker thread with the PNG encoding, off Krita's main thread.
    bgra = bytes(node.pixelData(box.x, box.y, box.width, box.height))
    if is_transparent(bgra):
        return f"'{name}' has nothing drawn{where}: draw a sketch on it first."
    return Sketch(bgra=bgra, box=box)


def _open_document(target: Target) -> Any:
    """The target's document if it is still open, else None."""
    return next((d for d in Krita.instance().documents() if d == target.document), None)


def _source(target: Target) -> tuple[Any, Any]:
    """(document, layer) of a target, with layer None when either is gone."""
    document = _open_document(target)
    source = _find_node(document.rootNode(), target.node_id) if document is not None else None
    if source is None or source.parentNode() is None:
        return document, None
    return document, source


def _find_node(node: Any, node_id: str) -> Any:
    """The node with this unique id in the tree under `node`, or None."""
    for child in node.childNodes():
        if child.uniqueId().toString() == node_id:
            return child
        found = _find_node(child, node_id)
        if found is not None:
            return found
    return None
