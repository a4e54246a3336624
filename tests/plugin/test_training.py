"""Training from the docker goes through the controller like generation: the connection first
(starting a local engine when none answers), then the drawings; a missing engine is reported."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import fake_krita
from plugin_helpers import configure, paint, sketch_document, wait_for
from sketch_variants.adapter import KritaHost
from sketch_variants.controller import Controller
from sketch_variants.settings import token_file

from tests.fakes import FAKE_SERVE

REPO = Path(__file__).resolve().parents[2]
# The real server around a real model, training into a folder of its own (two drawings suffice).
TRAINING_SERVE = REPO / "tests" / "krita" / "training_serve.py"


def _follow(controller: Controller) -> list[tuple[str, bool, str]]:
    """(engine status, training waiting for the engine, training message) at every change."""
    seen: list[tuple[str, bool, str]] = []

    def record() -> None:
        state = controller.training.state
        seen.append((controller.state.status, state.connecting, state.message))

    controller.changed.connect(record)
    controller.training.changed.connect(record)
    return seen


def test_train_with_no_engine_running_starts_one_then_sends_the_drawings(
    krita: fake_krita.Krita,
) -> None:
    # The fake engine's server has no model store, so it refuses trainings: what matters here
    # is that Train started the engine and the drawings reached it.
    configure(krita, engine_command=f"{sys.executable} {FAKE_SERVE} --token-file {token_file()}")
    controller = Controller(KritaHost())
    seen = _follow(controller)
    sketch_document(krita)
    controller.train("selected layers", "my eyes", "quick")
    wait_for(lambda: not controller.training.state.running)
    try:
        statuses = [status for status, _, _ in seen]
        assert statuses.index("starting") < statuses.index("connected")
        waited = [message for _, connecting, message in seen if connecting]
        assert waited and waited[0] == "Connecting to the engine…"
        assert controller.training.state.message.startswith("The engine refused the training: ")
        assert "(HTTP 404)" in controller.training.state.message
        assert controller.process.running and controller.state.status == "connected"
    finally:
        controller.shutdown()
        wait_for(lambda: not controller.process.stopping)


def test_train_when_no_engine_can_start_says_what_to_do(krita: fake_krita.Krita) -> None:
    configure(krita, engine_command="/not/installed/python -m engine serve --port 0")
    controller = Controller(KritaHost())
    sketch_document(krita)
    controller.train("selected layers", "my eyes", "quick")
    wait_for(lambda: not controller.training.state.running)
    assert controller.state.status == "not reachable"
    assert controller.training.state.message.startswith(
        "Engine not running: click Start, or run `make install`"
    )
    assert not controller.training.state.connecting


def test_train_without_drawings_asks_for_them_and_starts_no_engine(
    krita: fake_krita.Krita,
) -> None:
    configure(krita, engine_command=f"{sys.executable} {FAKE_SERVE} --token-file {token_file()}")
    controller = Controller(KritaHost())
    krita.add_document(fake_krita.Document(40, 30), [])
    controller.train("selected layers", "my eyes", "quick")
    wait_for(lambda: not controller.training.state.running)
    assert controller.training.state.message == (
        "Cannot train: no drawings found: select the layers or the folder with your drawings."
    )
    assert controller.state.status == "not connected" and not controller.process.running


def test_an_engine_lost_while_training_is_reported_with_what_to_do(
    krita: fake_krita.Krita, tmp_path: Path
) -> None:
    model = REPO / "weights" / "default"
    command = (
        f"{sys.executable} {TRAINING_SERVE} --token-file {token_file()} --model {model} "
        f"--data {tmp_path / 'data'}"
    )
    # Kept running: started detached, so the test knows its process id.
    configure(krita, engine_command=command, keep_engine_running=True, start_timeout_s=240)
    controller = Controller(KritaHost())
    document = fake_krita.Document(40, 30)
    layers = []
    for name, box in (("first", (8, 6, 10, 7)), ("second", (20, 10, 12, 9))):
        node = document.createNode(name, "paintlayer")
        document.rootNode().addChildNode(node, None)
        paint(node, box, (10, 20, 200, 255))
        layers.append(node)
    krita.add_document(document, layers)
    controller.train("selected layers", "lost", "quick")
    wait_for(lambda: controller.training.state.step > 0, 240)  # training on the engine
    os.kill(controller.process.detached_pid, signal.SIGKILL)
    wait_for(lambda: not controller.training.state.running)
    assert controller.training.state.message == (
        "Lost the engine while training: click Start, then train again."
    )
    assert controller.state.status == "not reachable"
