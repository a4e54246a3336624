"""Inserting variants: a group above the source, named layers, pixels over the source region."""

from __future__ import annotations

import fake_krita
from plugin_helpers import sketch_document
from sketch_variants.adapter import KritaHost, read_sketch
from sketch_variants.values import Sketch, Target


def _insert(krita: fake_krita.Krita, document: fake_krita.Document, node: fake_krita.Node) -> bool:
    sketch = read_sketch(document, node)
    assert isinstance(sketch, Sketch)
    target = Target(document, node.uniqueId().toString(), node.name())
    pixels = sketch.box.width * sketch.box.height
    variants = [(1042, bytes([1, 2, 3, 255]) * pixels), (1043, bytes([4, 5, 6, 255]) * pixels)]
    return KritaHost().insert_variants(target, sketch, variants, radius=7)


def test_variants_go_in_a_group_directly_above_the_source(krita: fake_krita.Krita) -> None:
    document, node = sketch_document(krita, box=(8, 6, 10, 7))
    top = document.createNode("top", "paintlayer")
    document.rootNode().addChildNode(top, None)
    before = bytes(node.pixels)
    assert _insert(krita, document, node)
    names = [n.name() for n in document.rootNode().childNodes()]
    assert names == ["eye sketch", "eye sketch - variants", "top"]
    group = document.rootNode().childNodes()[1]
    assert group.type() == "grouplayer"
    layers = group.childNodes()  # bottom to top
    assert [n.name() for n in layers] == [
        "eye sketch - variant 2 (seed 1043, r 7)",
        "eye sketch - variant 1 (seed 1042, r 7)",
    ]
    assert [n.visible() for n in layers] == [False, True]
    assert layers[1].pixelData(8, 6, 10, 7) == bytes([1, 2, 3, 255]) * 70
    assert layers[1].bounds().getRect() == (8, 6, 10, 7)
    assert bytes(node.pixels) == before  # the source layer is never modified
    assert document.refreshed == 1


def test_a_nested_source_gets_its_group_inside_the_same_parent(krita: fake_krita.Krita) -> None:
    document, node = sketch_document(krita)
    folder = document.createGroupLayer("face")
    document.rootNode().addChildNode(folder, None)
    node.remove()
    folder.addChildNode(node, None)
    assert _insert(krita, document, node)
    assert [n.name() for n in folder.childNodes()] == ["eye sketch", "eye sketch - variants"]


def test_a_closed_document_or_deleted_layer_drops_the_results(krita: fake_krita.Krita) -> None:
    document, node = sketch_document(krita)
    sketch = read_sketch(document, node)
    target = Target(document, node.uniqueId().toString(), node.name())
    node.remove()
    assert not KritaHost().insert_variants(target, sketch, [(1, b"\0" * len(sketch.bgra))], 3)
    document.close()
    assert not KritaHost().insert_variants(target, sketch, [(1, b"\0" * len(sketch.bgra))], 3)
