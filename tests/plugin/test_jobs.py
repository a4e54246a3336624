"""Jobs end to end through a real engine server: results, batches, switching and closing documents,
engine errors, engine down, cancel."""

from __future__ import annotations

import os
import signal
import sys

import fake_krita
from plugin_helpers import Served, configure, paint, sketch_document, spin, wait_for
from sketch_variants import actions
from sketch_variants.adapter import KritaHost
from sketch_variants.controller import Controller
from sketch_variants.settings import token_file

from engine.errors import EngineError
from tests.fakes import FAKE_SERVE
from tests.fakes.fake_engine import fake_image

NOT_RUNNING = "Engine not running: click Start, or run `make install`"


def _groups(document: fake_krita.Document) -> list[fake_krita.Node]:
    return [n for n in document.rootNode().childNodes() if n.name().endswith(" - variants")]


def _idle(controller: Controller) -> bool:
    return not controller.state.busy


def test_generate_puts_variants_with_their_seeds_above_the_sketch(
    krita: fake_krita.Krita, controller: Controller, served: Served
) -> None:
    configure(krita, new_seed="false", seed=1042)
    controller = Controller(KritaHost())
    document, node = sketch_document(krita, box=(8, 6, 10, 7))
    progress: list[tuple[int, int]] = []
    controller.changed.connect(
        lambda: progress.append((controller.state.step, controller.state.total))
    )
    actions.generate(controller)
    wait_for(lambda: bool(_groups(document)) and _idle(controller))
    (group,) = _groups(document)
    assert [n.name() for n in reversed(group.childNodes())] == [
        "eye sketch - variant 1 (seed 1042, r 5)",
        "eye sketch - variant 2 (seed 1043, r 5)",
        "eye sketch - variant 3 (seed 1044, r 5)",
    ]
    first = group.childNodes()[-1]
    request = served.engine.requests[0]
    # The fake engine's variant of seed 1042 over the sketch's box; Krita's order is BGRA.
    variant = fake_image(request, 1042, served.engine.name)
    assert bytes(first.pixelData(8, 6, 10, 7)) == variant[..., [2, 1, 0, 3]].tobytes()
    assert first.bounds().getRect() == (8, 6, 10, 7)
    assert (request.count, request.radius, request.steps, request.mode) == (3, 5, 4, "mask")
    assert request.sketch.shape == (7, 10, 4)
    assert (4, 4) in progress
    assert controller.state.message == "3 variants of 'eye sketch' added."
    assert len(controller.state.thumbnails) == 3
    assert controller.state.status == "connected"


def test_new_seed_each_time_gives_each_job_another_seed(
    krita: fake_krita.Krita, controller: Controller, served: Served
) -> None:
    document, _ = sketch_document(krita)
    controller.generate_active()
    wait_for(lambda: len(_groups(document)) == 1 and _idle(controller))
    controller.generate_active()
    wait_for(lambda: len(_groups(document)) == 2 and _idle(controller))
    seeds = [r.seed for r in served.engine.requests]
    assert len(set(seeds)) == 2


def test_fill_selected_gives_every_selected_layer_its_own_group(
    krita: fake_krita.Krita, controller: Controller, served: Served
) -> None:
    document, eye = sketch_document(krita, "eye", box=(1, 1, 5, 5))
    mouth = document.createNode("mouth", "paintlayer")
    document.rootNode().addChildNode(mouth, None)
    paint(mouth, (20, 15, 8, 4), (0, 0, 0, 255))
    krita.window.view.selected = [eye, mouth]
    actions.fill_selected(controller)
    wait_for(lambda: len(_groups(document)) == 2 and _idle(controller))
    assert [n.name() for n in document.rootNode().childNodes()] == [
        "eye",
        "eye - variants",
        "mouth",
        "mouth - variants",
    ]
    mouth_group = document.rootNode().childNodes()[3]
    assert mouth_group.childNodes()[0].bounds().getRect() == (20, 15, 8, 4)
    assert [r.sketch.shape[:2] for r in served.engine.requests] == [(5, 5), (4, 8)]


def test_results_go_to_the_starting_document_after_a_switch(
    krita: fake_krita.Krita, controller: Controller, served: Served
) -> None:
    served.engine.release.clear()
    document, _ = sketch_document(krita)
    controller.generate_active()
    wait_for(served.engine.started.is_set)
    other, _ = sketch_document(krita, "other sketch")  # the artist opens another document
    served.engine.release.set()
    wait_for(lambda: _idle(controller) and bool(_groups(document)))
    assert _groups(other) == []
    assert krita.activeDocument() is other


def test_results_for_a_closed_document_are_dropped_silently(
    krita: fake_krita.Krita, controller: Controller, served: Served
) -> None:
    served.engine.release.clear()
    document, _ = sketch_document(krita)
    other, _ = sketch_document(krita, "other sketch")
    krita.active = document
    controller.generate_active()
    wait_for(served.engine.started.is_set)
    document.close()
    served.engine.release.set()
    wait_for(lambda: _idle(controller) and controller.state.step == 0)
    spin(100)
    assert _groups(other) == [] and _groups(document) == []
    assert "error" not in controller.state.message.lower()


def test_an_engine_error_is_a_message_and_the_next_job_still_runs(
    krita: fake_krita.Krita, controller: Controller, served: Served
) -> None:
    document, eye = sketch_document(krita, "eye", box=(1, 1, 5, 5))
    served.engine.fail_with = EngineError("the model ran out of memory")
    controller.generate_active()
    wait_for(lambda: "could not make variants" in controller.state.message)
    assert "the model ran out of memory" in controller.state.message
    assert _groups(document) == []
    served.engine.fail_with = None
    controller.generate_active()
    wait_for(lambda: bool(_groups(document)) and _idle(controller))


def test_cancel_stops_the_running_job_on_the_engine_and_adds_nothing(
    krita: fake_krita.Krita, controller: Controller, served: Served
) -> None:
    served.engine.release.clear()
    document, eye = sketch_document(krita, "eye", box=(1, 1, 5, 5))
    mouth = document.createNode("mouth", "paintlayer")
    document.rootNode().addChildNode(mouth, None)
    paint(mouth, (20, 15, 8, 4), (0, 0, 0, 255))
    krita.window.view.selected = [eye, mouth]
    controller.fill_selected()
    wait_for(served.engine.started.is_set)
    assert controller.state.jobs_left == 1
    controller.cancel()
    wait_for(lambda: served.engine.cancelled == 1)
    assert controller.state.message == "Cancelled." and not controller.state.busy
    served.engine.release.set()
    spin(200)
    assert _groups(document) == [] and len(served.engine.requests) == 1


def test_a_wrong_token_says_what_to_fix(krita: fake_krita.Krita, served: Served) -> None:
    configure(krita, server_url=served.url, token="not-the-token")
    controller = Controller(KritaHost())
    sketch_document(krita)
    controller.generate_active()
    wait_for(lambda: controller.state.status == "not reachable")
    assert controller.state.message.startswith("The engine refused the access token")
    assert not controller.state.busy


def test_engine_down_and_no_engine_installed_says_click_start_or_install(
    krita: fake_krita.Krita, served: Served
) -> None:
    url = served.url
    served.server.close()  # nothing answers at the configured local address any more
    configure(krita, server_url=url, token="x", engine_command="/not/installed/python -m engine")
    controller = Controller(KritaHost())
    document, _ = sketch_document(krita)
    controller.generate_active()
    wait_for(lambda: controller.state.status == "not reachable")
    assert controller.state.reason == "no engine at /not/installed/python"
    assert controller.state.message.startswith(
        "Engine not running: click Start, or run `make install`"
    )
    assert not controller.state.busy and _groups(document) == []


def test_a_remote_engine_that_is_down_is_never_started_locally(krita: fake_krita.Krita) -> None:
    configure(krita, server_url="http://192.0.2.1:9", token="x")  # TEST-NET-1: never answers
    controller = Controller(KritaHost())
    controller.check_engine()
    wait_for(lambda: controller.state.status == "not reachable", timeout=40)
    assert controller.state.message.startswith("Engine at http://192.0.2.1:9 not reachable")
    assert not controller.process.running


def test_check_engine_without_starting_reports_not_running(krita: fake_krita.Krita) -> None:
    controller = Controller(KritaHost())
    controller.check_engine()
    wait_for(lambda: controller.state.status == "not reachable")
    assert controller.state.message.startswith(
        "Engine not running: click Start, or run `make install`"
    )
    assert not controller.process.running


def test_no_engine_running_starts_one_then_generates_and_stops_it_at_quit(
    krita: fake_krita.Krita,
) -> None:
    command = f"{sys.executable} {FAKE_SERVE} --token-file {token_file()}"
    configure(krita, engine_command=command, count=2, steps=3)
    controller = Controller(KritaHost())
    statuses: list[str] = []
    controller.changed.connect(lambda: statuses.append(controller.state.status))
    document, _ = sketch_document(krita)
    controller.generate_active()
    wait_for(lambda: bool(_groups(document)) and _idle(controller))
    assert statuses.index("starting") < statuses.index("connected")
    url = controller.client.url
    assert krita.readSetting("sketch_variants", "last_engine_url", "") == url
    assert controller.process.running
    krita.notifier().applicationClosing.emit()  # the extension wires shutdown to this signal
    controller.shutdown()
    assert not controller.process.running
    wait_for(lambda: not controller.process.stopping)  # stopping never blocked Krita's thread
    # A new Krita session finds nothing at the remembered address and reports it.
    fresh = Controller(KritaHost())
    fresh.check_engine()
    wait_for(lambda: fresh.state.status == "not reachable")


def test_an_engine_that_dies_while_starting_reports_its_last_words(krita: fake_krita.Krita) -> None:
    command = (
        f"{sys.executable} -c \"import sys; sys.exit('engine: no weights in weights/default')\""
    )
    configure(krita, engine_command=command)
    controller = Controller(KritaHost())
    sketch_document(krita)
    controller.generate_active()
    wait_for(lambda: controller.state.status == "not reachable")
    assert "no weights in weights/default" in controller.state.reason
    assert "Engine could not start" in controller.state.message and not controller.state.busy


def test_a_kept_engine_outlives_krita_and_is_found_again_next_session(
    krita: fake_krita.Krita,
) -> None:
    command = f"{sys.executable} {FAKE_SERVE} --token-file {token_file()}"
    configure(krita, engine_command=command, count=1, steps=2, keep_engine_running=True)
    controller = Controller(KritaHost())
    document, _ = sketch_document(krita)
    controller.generate_active()
    wait_for(lambda: bool(_groups(document)) and _idle(controller))
    pid = controller.process.detached_pid
    assert pid > 0
    try:
        controller.shutdown()  # Krita quits, the setting keeps the engine
        os.kill(pid, 0)  # still running
        again = Controller(KritaHost())  # the next Krita session
        again.check_engine()
        wait_for(lambda: again.state.status == "connected")
        assert again.client.url == controller.client.url
        assert not again.process.running  # found, not started a second time
    finally:
        os.kill(pid, signal.SIGTERM)


def test_an_internal_error_mid_job_keeps_its_message_and_abandons_the_job(
    krita: fake_krita.Krita, controller: Controller, served: Served
) -> None:
    """A bug in a progress callback stops the job: its later events must not ask for a result."""
    served.engine.release.clear()
    document, _ = sketch_document(krita)
    update = controller._update
    raised: list[bool] = []

    def failing_update(**changes: object) -> None:
        if changes.get("step") == 1 and not raised:
            raised.append(True)
            raise RuntimeError("bug in a progress callback")
        update(**changes)

    controller._update = failing_update  # type: ignore[method-assign]
    controller.generate_active()
    wait_for(served.engine.started.is_set)
    served.engine.release.set()
    wait_for(lambda: bool(raised) and not controller.state.busy)
    spin(300)  # the engine finishes the job meanwhile; nothing may come of it
    assert controller.state.message == (
        "Sketch Variants hit an internal error (RuntimeError: bug in a progress callback); "
        "please report it."
    )
    assert _groups(document) == []
    controller.generate_active()  # and the next job runs normally
    wait_for(lambda: bool(_groups(document)) and _idle(controller))
