"""The extension wires actions, the docker and shutdown to one controller; the panel drives it."""

from __future__ import annotations

from dataclasses import replace

import fake_krita
from plugin_helpers import Served, configure, sketch_document, wait_for
from sketch_variants import extension
from sketch_variants.actions import FILL_SELECTED, GENERATE, LIVE, LIVE_KEEP
from sketch_variants.values import EngineState, UiState

NO_DOCUMENT = "Open a document and select the layer with your sketch first."


def test_register_adds_the_actions_to_tools_scripts_and_the_docker(
    krita: fake_krita.Krita,
) -> None:
    controller = extension.register()
    actions = krita.window.actions
    assert set(actions) == {GENERATE, FILL_SELECTED, LIVE, LIVE_KEEP}
    assert {a.property("menu") for a in actions.values()} == {"tools/scripts"}
    (factory,) = krita.factories
    assert factory.docker_id == "sketch_variants_docker"
    docker = factory.createDockWidget()
    assert docker.windowTitle() == "Sketch Variants"
    assert docker.panel.controller is controller


def _connected_docker(krita: fake_krita.Krita, served: Served, count: int) -> tuple:
    """The extension registered against the served engine and its docker, once connected (keep
    the docker: the panel lives inside it)."""
    configure(krita, server_url=served.url, token=served.token, count=count, steps=3)
    controller = extension.register()
    docker = krita.factories[0].createDockWidget()
    wait_for(lambda: controller.state.status == "connected")  # the docker checks at creation
    return controller, docker


def test_the_actions_call_the_same_code_as_the_buttons(krita: fake_krita.Krita) -> None:
    controller = extension.register()
    krita.window.actions[GENERATE].trigger()
    assert (
        controller.state.message == "Open a document and select the layer with your sketch first."
    )
    controller.state = UiState()
    krita.window.actions[FILL_SELECTED].trigger()
    assert controller.state.message.startswith("Open a document and select the layers")
    controller.state = UiState()
    docker = krita.factories[0].createDockWidget()
    docker.panel.generate_button.click()
    assert (
        controller.state.message == "Open a document and select the layer with your sketch first."
    )


def test_the_panel_runs_a_job_and_shows_progress_and_thumbnails(
    krita: fake_krita.Krita, served: Served
) -> None:
    controller, docker = _connected_docker(krita, served, count=2)
    panel = docker.panel
    assert panel.status.text() == f"Engine connected: {served.url}"
    assert not panel.start_button.isEnabled() and not panel.cancel_button.isEnabled()
    sketch_document(krita)
    served.engine.release.clear()
    panel.generate_button.click()
    wait_for(served.engine.started.is_set)
    wait_for(lambda: panel.cancel_button.isEnabled())
    served.engine.release.set()
    wait_for(lambda: not controller.state.busy)
    assert panel.message.text() == "2 variants of 'eye sketch' added."
    assert panel.thumbnails.count() == 2
    assert panel.progress.format() == "idle"


def test_changing_parameters_persists_them_in_kritas_settings(krita: fake_krita.Krita) -> None:
    controller = extension.register()
    docker = krita.factories[0].createDockWidget()  # keep it: the panel lives inside it
    panel = docker.panel
    panel.radius.setValue(9)
    panel.mode.setCurrentText("sdedit")
    panel.new_seed.setChecked(False)
    panel.seed.setValue(1042)
    assert krita.readSetting("sketch_variants", "radius", "") == "9"
    assert krita.readSetting("sketch_variants", "mode", "") == "sdedit"
    assert krita.readSetting("sketch_variants", "seed", "") == "1042"
    assert panel.strength.isEnabled() and panel.seed.isEnabled()
    assert controller.settings.params == replace(
        controller.settings.params, radius=9, mode="sdedit", new_seed=False, seed=1042
    )


def test_quitting_krita_shuts_the_controller_down(krita: fake_krita.Krita) -> None:
    controller = extension.register()
    calls: list[bool] = []
    controller.process.stop = lambda: calls.append(True)  # type: ignore[method-assign]
    krita.notifier().applicationClosing.emit()
    assert calls == [True]


def test_no_document_then_unreachable_engine_leaves_start_enabled(krita: fake_krita.Krita) -> None:
    controller = extension.register()
    docker = krita.factories[0].createDockWidget()  # keep it: the panel lives inside it
    panel = docker.panel
    wait_for(lambda: controller.state.status == "not reachable")
    assert panel.start_button.isEnabled()
    assert panel.status.text().startswith("Engine not reachable")


def test_the_settings_dialog_configures_a_remote_engine(krita: fake_krita.Krita) -> None:
    controller = extension.register()
    docker = krita.factories[0].createDockWidget()
    dialog = docker.panel.edit_settings()
    assert "stored in plain text in Krita's settings file (kritarc)" in dialog.storage.text()
    dialog.server_url.setText(" http://gpu-box:8731 ")
    dialog.token.setText("studio-token")
    dialog.keep.setChecked(True)
    dialog.accept()
    assert controller.settings.server_url == "http://gpu-box:8731"
    assert controller.settings.token == "studio-token"
    assert controller.settings.keep_engine_running
    assert krita.readSetting("sketch_variants", "server_url", "") == "http://gpu-box:8731"
    assert krita.readSetting("sketch_variants", "keep_engine_running", "") == "true"


def test_an_engine_that_dies_after_connecting_says_click_start(
    krita: fake_krita.Krita, served: Served
) -> None:
    controller = extension.register()
    controller.connection.state = EngineState.CONNECTED
    controller.connection._process_failed("the engine exited (code -9)")
    assert controller.state.status == "not reachable"
    assert controller.state.message == (
        "The engine stopped (the engine exited (code -9)): click Start to run it again."
    )


def test_the_clean_fills_toggle_is_remembered_and_reaches_the_engine(
    krita: fake_krita.Krita, served: Served
) -> None:
    controller, docker = _connected_docker(krita, served, count=1)
    panel = docker.panel
    assert panel.clean_fills.isChecked()
    panel.clean_fills.setChecked(False)
    assert krita.readSetting("sketch_variants", "clean_fills", "") == "false"
    sketch_document(krita)
    panel.generate_button.click()
    wait_for(lambda: served.engine.requests and not controller.state.busy)
    assert served.engine.requests[-1].clean_fills is False
