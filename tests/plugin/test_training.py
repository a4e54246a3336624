"""Training from the docker goes through the controller like generation: the connection first
(starting a local engine when none answers), then the drawings; a missing engine is reported."""

from __future__ import annotations

import sys

import fake_krita
from plugin_helpers import configure, sketch_document, wait_for
from sketch_variants.adapter import KritaHost
from sketch_variants.controller import Controller
from sketch_variants.settings import token_file

from tests.fakes import FAKE_SERVE


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
