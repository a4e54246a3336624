"""Reading sketches from layers: content box, selection, channel order, refusals."""

from __future__ import annotations

import fake_krita
from plugin_helpers import paint, sketch_document
from sketch_variants.adapter import KritaHost, read_sketch
from sketch_variants.job_runner import build_request
from sketch_variants.qt import QImage
from sketch_variants.values import Box, Job, Params, Sketch, Target


def test_the_sketch_is_the_layers_content_box_in_rgba_order(krita: fake_krita.Krita) -> None:
    document, node = sketch_document(krita, box=(8, 6, 10, 7))
    sketch = read_sketch(document, node)
    assert isinstance(sketch, Sketch)
    assert sketch.box == Box(8, 6, 10, 7)
    assert len(sketch.bgra) == 10 * 7 * 4
    assert sketch.bgra[:4] == bytes([10, 20, 200, 255])  # as Krita stores it: B, G, R, A
    # The engine gets a PNG whose first pixel is red 200, green 20, blue 10.
    target = Target(document, node.uniqueId().toString(), node.name())
    request = build_request(Job(target, sketch, Params(), seed=5))
    colour = QImage.fromData(request.sketch_png, "PNG").pixelColor(0, 0)
    assert (colour.red(), colour.green(), colour.blue(), colour.alpha()) == (200, 20, 10, 255)


def test_a_selection_chooses_the_region_even_beyond_the_ink(krita: fake_krita.Krita) -> None:
    document, node = sketch_document(krita, box=(8, 6, 10, 7))
    document.setSelection(fake_krita.Selection(4, 2, 8, 6))
    sketch = read_sketch(document, node)
    assert isinstance(sketch, Sketch)
    assert sketch.box == Box(4, 2, 8, 6)
    assert sketch.bgra[:4] == bytes(4)  # the selection's corner has no ink
    assert sketch.bgra[-4:] == bytes([10, 20, 200, 255])  # its far corner does


def test_a_selection_off_the_ink_says_there_is_nothing_to_use(krita: fake_krita.Krita) -> None:
    document, node = sketch_document(krita, box=(8, 6, 10, 7))
    document.setSelection(fake_krita.Selection(30, 20, 5, 5))
    problem = read_sketch(document, node)
    assert (
        problem == "'eye sketch' has nothing drawn inside the selection: draw a sketch on it first."
    )


def test_a_selection_past_the_canvas_is_clipped(krita: fake_krita.Krita) -> None:
    document, node = sketch_document(krita, box=(30, 20, 10, 10))
    document.setSelection(fake_krita.Selection(35, 25, 50, 50))
    sketch = read_sketch(document, node)
    assert isinstance(sketch, Sketch) and sketch.box == Box(35, 25, 5, 5)


def test_an_empty_layer_gets_a_message(krita: fake_krita.Krita) -> None:
    document = krita.add_document(fake_krita.Document(20, 20))
    node = document.createNode("blank", "paintlayer")
    document.rootNode().addChildNode(node, None)
    assert read_sketch(document, node) == "'blank' has nothing drawn: draw a sketch on it first."


def test_groups_and_vector_layers_get_what_to_do(krita: fake_krita.Krita) -> None:
    document = krita.add_document(fake_krita.Document(20, 20))
    group = document.createGroupLayer("parts")
    vector = document.createNode("lines", "vectorlayer")
    assert "is a group: select the paint layer" in read_sketch(document, group)
    assert "Layer > Convert > to Paint Layer" in read_sketch(document, vector)


def test_other_depths_and_models_are_refused_with_the_fix(krita: fake_krita.Krita) -> None:
    document = krita.add_document(fake_krita.Document(20, 20))
    for model, depth in (("RGBA", "U16"), ("RGBA", "F32"), ("GRAYA", "U8"), ("CMYKA", "U8")):
        node = document.createNode("deep", "paintlayer", model, depth)
        node.pixels[:] = b"\xff" * len(node.pixels)
        problem = read_sketch(document, node)
        assert isinstance(problem, str)
        assert f"is {model} {depth}" in problem
        assert "Image > Convert Image Color Space" in problem


def test_no_document_or_layer_says_what_to_open(krita: fake_krita.Krita) -> None:
    assert KritaHost().active_sketch() == (
        [],
        ["Open a document and select the layer with your sketch first."],
    )


def test_selected_layers_are_read_each_with_its_own_box(krita: fake_krita.Krita) -> None:
    document, first = sketch_document(krita, "eye", box=(1, 1, 4, 4))
    second = document.createNode("mouth", "paintlayer")
    document.rootNode().addChildNode(second, None)
    paint(second, (20, 10, 6, 3), (0, 0, 0, 255))
    group = document.createGroupLayer("stuff")
    document.rootNode().addChildNode(group, None)
    krita.window.view.selected = [first, second, group]
    found, problems = KritaHost().selected_sketches()
    assert [(t.layer_name, s.box) for t, s in found] == [
        ("eye", Box(1, 1, 4, 4)),
        ("mouth", Box(20, 10, 6, 3)),
    ]
    assert problems == ["'stuff' is a group: select the paint layer with the sketch inside it."]


def test_without_a_multi_selection_fill_uses_the_active_layer(krita: fake_krita.Krita) -> None:
    document, node = sketch_document(krita)
    krita.window.view.selected = []
    found, problems = KritaHost().selected_sketches()
    assert [t.node_id for t, _ in found] == [node.uniqueId().toString()] and not problems
