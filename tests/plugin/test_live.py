"""Live mode through a real engine server and the fake Krita: the live layer, Keep, supersession,
and the sketch's document switched away from or closed while live is on."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import fake_krita
from plugin_helpers import Served, configure, paint, sketch_document, spin, wait_for
from sketch_variants import actions, extension, job_runner
from sketch_variants.adapter import KritaHost
from sketch_variants.client import EngineClient
from sketch_variants.controller import Controller
from sketch_variants.live import READ_SHARE, LiveMode
from sketch_variants.qt import QLabel
from sketch_variants.settings import load, save
from sketch_variants.values import Box, Job, JobRequest, Params, Sketch, Target
from sketch_variants.worker import Worker

from engine.server.jobs import SUPERSEDED
from engine.server.payload import JobRequest as ServerJobRequest
from engine.server.work import State

LIVE_STEPS = 2  # the fixture's full jobs take 4


def _names(document: fake_krita.Document) -> list[str]:
    return [node.name() for node in document.rootNode().childNodes()]


def _live_layers(document: fake_krita.Document) -> list[fake_krita.Node]:
    return [node for node in document.rootNode().childNodes() if node.name().endswith(" - live")]


def _pixels(node: fake_krita.Node) -> bytes:
    return bytes(node.pixels)


def _shows_picture(label: QLabel) -> bool:
    pixmap = label.pixmap()
    return pixmap is not None and not pixmap.isNull()


def _live_controller(krita: fake_krita.Krita) -> Controller:
    configure(krita, live_steps=LIVE_STEPS, new_seed="false", seed=77)
    return Controller(KritaHost())


def test_live_shows_each_change_in_one_layer_above_the_sketch_and_keep_adds_a_variant(
    krita: fake_krita.Krita, controller: Controller, served: Served
) -> None:
    controller = _live_controller(krita)
    document, sketch = sketch_document(krita, box=(8, 6, 10, 7))
    actions.live(controller)
    wait_for(lambda: bool(_live_layers(document)) and controller.live.settled)
    assert controller.state.live
    assert _names(document) == ["eye sketch", "eye sketch - live"]
    (live,) = _live_layers(document)
    first = _pixels(live)
    assert live.bounds().getRect() == (8, 6, 10, 7)
    quick, settled = served.engine.requests
    # The quick preview first, then, the sketch unchanged, the variant Keep would add of it.
    assert (quick.count, quick.steps, quick.upscale, quick.seed) == (1, LIVE_STEPS, False, 77)
    assert (settled.count, settled.steps, settled.upscale, settled.seed) == (1, 4, True, 77)

    for stroke in ((20, 10, 5, 5), (2, 2, 3, 3)):
        shown = _pixels(live)
        paint(sketch, stroke, (0, 0, 0, 255))
        wait_for(lambda: _pixels(live) != shown and controller.live.settled)  # noqa: B023
        assert _live_layers(document) == [live]  # updated in place, never another layer
        _, _, width, height = sketch.bounds().getRect()
        quick, settled = served.engine.requests[-2:]
        assert (quick.steps, quick.upscale, settled.steps, settled.upscale) == (2, False, 4, True)
        for request in (quick, settled):
            assert request.sketch.shape[:2] == (height, width)  # the new sketch
    assert _pixels(live) != first
    assert {r.seed for r in served.engine.requests} == {77}  # the seed stays while live is on

    asked = len(served.engine.requests)
    actions.live_keep(controller)  # the live layer shows Keep's variant: added at once
    assert _names(document) == ["eye sketch", "eye sketch - variants", "eye sketch - live"]
    assert len(served.engine.requests) == asked and not controller.state.busy
    group = document.rootNode().childNodes()[1]
    (variant,) = group.childNodes()
    assert variant.name() == "eye sketch - variant 1 (seed 77, r 5)"
    assert _pixels(variant) == _pixels(live)  # what the artist saw is what Keep added
    assert controller.state.message == "1 variant of 'eye sketch' added."
    assert controller.state.live  # Keep leaves live on

    # Another radius since the live layer settled: Keep asks the engine for that variant.
    controller.set_params(replace(controller.settings.params, radius=3))
    actions.live_keep(controller)
    wait_for(lambda: len(served.engine.requests) == asked + 1 and not controller.state.busy)
    kept = served.engine.requests[-1]
    assert (kept.count, kept.steps, kept.upscale, kept.seed, kept.radius) == (1, 4, True, 77, 3)
    assert [len(g.childNodes()) for g in document.rootNode().childNodes()[1:3]] == [1, 1]

    actions.live(controller)
    assert not controller.state.live and controller.state.message == "Live off."
    assert _names(document) == ["eye sketch", "eye sketch - variants", "eye sketch - variants"]
    paint(sketch, (30, 20, 2, 2), (0, 0, 0, 255))
    count = len(served.engine.requests)
    spin(300)
    assert len(served.engine.requests) == count  # nothing is watched any more


def _live_behind_an_ordinary_job(
    krita: fake_krita.Krita, served: Served
) -> tuple[Controller, fake_krita.Document, fake_krita.Node]:
    """Live turned on while an ordinary job holds the engine (its live requests wait)."""
    controller = _live_controller(krita)
    document, sketch = sketch_document(krita, box=(8, 6, 10, 7))
    served.engine.release.clear()
    controller.generate_active()
    wait_for(served.engine.started.is_set)
    controller.set_live(True)
    return controller, document, sketch


def test_the_newest_sketch_supersedes_waiting_live_requests_not_other_jobs(
    krita: fake_krita.Krita, controller: Controller, served: Served
) -> None:
    controller, document, sketch = _live_behind_an_ordinary_job(krita, served)
    jobs = served.server.service.jobs
    for number, stroke in enumerate(((20, 10, 5, 5), (2, 2, 3, 3)), start=2):
        paint(sketch, stroke, (0, 0, 0, 255))
        wait_for(lambda: len(jobs.items()) == 1 + number)  # noqa: B023 - waited on at once
    first_live, second_live, newest = jobs.items()[1:]
    for dropped in (first_live, second_live):
        assert (dropped.state, dropped.error) == (State.CANCELLED, SUPERSEDED)
    served.engine.release.set()
    wait_for(lambda: bool(_live_layers(document)) and not controller.state.busy)
    # The dropped sketches never reached the engine; the newest's settling one may follow.
    ordinary, live, *settling = served.engine.requests
    assert all(r.upscale and r.sketch.shape == live.sketch.shape for r in settling)
    assert ordinary.count == 3 and "eye sketch - variants" in _names(document)
    assert live.steps == LIVE_STEPS and live.sketch.shape[:2] == (13, 23)  # the newest sketch
    assert newest.state == "done"


def test_a_stale_request_of_ours_arriving_last_does_not_leave_the_newest_sketch_unshown(
    krita: fake_krita.Krita, controller: Controller, served: Served
) -> None:
    # HTTP requests run on parallel connections: a request the plugin already replaced can reach
    # the engine after its newest one, which the engine then drops as older.
    controller, document, sketch = _live_behind_an_ordinary_job(krita, served)
    jobs = served.server.service.jobs
    wait_for(lambda: len(jobs.items()) == 2)
    png = job_runner.build_request(_any_live_job(controller)).sketch_png
    stale = JobRequest(png, "mask", 1, 5, 77, LIVE_STEPS, upscale=False, live=controller.live.key)
    controller.client.submit(stale, lambda job_id: None, lambda failure: None)
    # The engine drops our newest request for the stale one; the plugin sends it again, which
    # drops the stale one in turn.
    wait_for(lambda: len(jobs.items()) == 4)
    newest, late, again = jobs.items()[1:]
    for dropped in (newest, late):
        assert (dropped.state, dropped.error) == (State.CANCELLED, SUPERSEDED)
    served.engine.release.set()
    wait_for(lambda: bool(_live_layers(document)) and controller.live.settled)
    assert again.state == "done"


def _any_live_job(controller: Controller) -> Job:
    """A job of the live layer's sketch, for a request's PNG."""
    return controller.live._kept(controller.live._sent)


def test_live_stays_with_its_document_when_another_becomes_active(
    krita: fake_krita.Krita, controller: Controller, served: Served
) -> None:
    controller = _live_controller(krita)
    document, sketch = sketch_document(krita)
    controller.set_live(True)
    wait_for(lambda: bool(_live_layers(document)))
    other, _ = sketch_document(krita, "other sketch")  # the artist opens another document
    (live,) = _live_layers(document)
    shown = _pixels(live)
    paint(sketch, (20, 10, 5, 5), (0, 0, 0, 255))
    wait_for(lambda: _pixels(live) != shown)
    assert _live_layers(other) == [] and krita.activeDocument() is other
    controller.set_live(False)
    assert _live_layers(document) == []


def test_closing_the_document_stops_live_with_a_message(
    krita: fake_krita.Krita, controller: Controller, served: Served
) -> None:
    controller = _live_controller(krita)
    document, _ = sketch_document(krita)
    other, _ = sketch_document(krita, "other sketch")
    krita.active = document
    served.engine.release.clear()
    controller.set_live(True)
    wait_for(served.engine.started.is_set)
    document.close()  # while its live request runs
    wait_for(lambda: not controller.state.live)
    assert controller.state.message == (
        "Live stopped: 'eye sketch' was closed or deleted. Turn Live on again to go on."
    )
    served.engine.release.set()
    spin(300)
    assert _live_layers(other) == [] and controller.state.live_preview == b""
    controller.generate_active()  # the plugin goes on normally
    wait_for(lambda: "other sketch - variants" in _names(other) and not controller.state.busy)


def test_live_without_a_sketch_layer_says_what_to_do(
    krita: fake_krita.Krita, controller: Controller
) -> None:
    document = fake_krita.Document(20, 20)
    krita.add_document(document)
    controller.set_live(True)
    assert not controller.state.live
    assert controller.state.message == "Select the layer with your sketch first."
    actions.live_keep(controller)
    assert controller.state.message == "Turn Live on first: Keep makes its current result a layer."


def test_the_docker_turns_live_on_shows_its_preview_and_sends_the_upscale_toggle(
    krita: fake_krita.Krita, controller: Controller, served: Served
) -> None:
    configure(krita, live_steps=LIVE_STEPS)
    controller = extension.register()
    docker = krita.factories[0].createDockWidget()  # keep it: the panel lives inside it
    panel = docker.panel
    assert panel.upscale.isChecked() and not panel.keep_button.isEnabled()
    panel.upscale.setChecked(False)
    assert krita.readSetting("sketch_variants", "upscale", "") == "false"
    document, _ = sketch_document(krita)
    panel.live.setChecked(True)
    wait_for(lambda: _shows_picture(panel.live_preview))
    assert panel.keep_button.isEnabled() and panel.live_seed_button.isEnabled()
    seed = controller.live.seed
    (live,) = _live_layers(document)
    shown = _pixels(live)
    panel.live_seed_button.click()
    wait_for(lambda: _pixels(live) != shown)
    assert controller.live.seed != seed and served.engine.requests[-1].seed == controller.live.seed
    panel.keep_button.click()
    wait_for(lambda: "eye sketch - variants" in _names(document) and not controller.state.busy)
    kept = served.engine.requests[-1]
    assert (kept.steps, kept.upscale, kept.seed) == (4, False, controller.live.seed)
    panel.live.setChecked(False)
    assert _live_layers(document) == [] and not _shows_picture(panel.live_preview)


def test_a_live_request_is_one_the_server_takes_with_its_key_and_upscale() -> None:
    body = json.loads(
        JobRequest(b"PNG", "mask", 1, 4, 9, 8, upscale=False, live="k" * 32).to_json()
    )
    assert (body["upscale"], body["live"]) == (False, "k" * 32)
    request = ServerJobRequest.model_validate(body)
    assert request.live == "k" * 32 and request.parameters().upscale is False
    assert "live" not in json.loads(JobRequest(b"PNG", "mask", 1, 4, 9, 8).to_json())


def test_the_upscale_and_clean_fills_toggles_and_live_levels_are_kept_in_the_settings() -> None:
    store: dict[str, str] = {}
    save(load(lambda key, default: default), store.__setitem__)
    assert (store["upscale"], store["clean_fills"], store["live_steps"]) == ("true", "true", "8")
    store.update(upscale="false", clean_fills="false", live_steps="4")
    assert load(lambda key, default: store.get(key, default)).params == Params(
        upscale=False, clean_fills=False, live_steps=4
    )
    store.update(live_steps="0")  # out of range: the default
    assert load(lambda key, default: store.get(key, default)).params.live_steps == 8


def test_live_previews_and_keep_run_the_models_own_steps_by_default(
    krita: fake_krita.Krita, controller: Controller, served: Served
) -> None:
    # A kritarc written before fast sampling still holds steps 16 and live steps 8: they are
    # the setting's "off" values now, so its artist gets the fast path too.
    configure(krita, fast_sampling="", steps=16, live_steps=8, new_seed="false", seed=5)
    controller = Controller(KritaHost())
    assert controller.settings.params.fast_sampling
    document, _ = sketch_document(krita)
    actions.live(controller)
    wait_for(lambda: controller.live.settled)
    live, settled = served.engine.requests
    assert (live.steps, live.upscale, live.seed) == (None, False, 5)
    assert (settled.steps, settled.upscale, settled.seed) == (None, True, 5)
    # Keep adds what the settled preview ran (the model's own steps, the same seed, upscaled),
    # without asking the engine again.
    actions.live_keep(controller)
    assert len(served.engine.requests) == 2
    assert any(n.name().endswith(" - variants") for n in document.rootNode().childNodes())
    controller.shutdown()


def test_the_engine_settings_turn_fast_sampling_off_and_on(
    krita: fake_krita.Krita, controller: Controller, served: Served
) -> None:
    configure(krita, fast_sampling=True)
    extension.register()
    docker = krita.factories[0].createDockWidget()
    panel = docker.panel
    assert panel.params().fast_sampling and panel.params().requested_steps == 0
    assert "steps" not in json.loads(JobRequest(b"PNG", "mask", 1, 4, 9, 0).to_json())
    dialog = panel.edit_settings()
    assert dialog.fast.isChecked()
    dialog.fast.setChecked(False)  # the old path: the stored steps
    dialog.accept()
    assert not panel.params().fast_sampling and panel.params().requested_steps == 4
    assert krita.readSetting("sketch_variants", "fast_sampling", "") == "false"


def test_the_colour_is_kept_in_the_settings_and_sent_only_when_chosen() -> None:
    store: dict[str, str] = {"colour": "#3A7BD5"}
    params = load(lambda key, default: store.get(key, default)).params
    assert params.colour == "#3a7bd5"
    save(load(lambda key, default: store.get(key, default)), store.__setitem__)
    assert store["colour"] == "#3a7bd5"
    store["colour"] = "blue"  # not a colour: each variant its own
    assert load(lambda key, default: store.get(key, default)).params.colour == ""
    body = json.loads(JobRequest(b"PNG", "mask", 1, 4, 9, 8, colour="#3a7bd5").to_json())
    assert ServerJobRequest.model_validate(body).parameters().colour == "#3a7bd5"
    assert "colour" not in json.loads(JobRequest(b"PNG", "mask", 1, 4, 9, 8).to_json())


def test_the_docker_sends_the_colour_only_when_one_colour_is_asked_for(
    krita: fake_krita.Krita, controller: Controller, served: Served
) -> None:
    extension.register()
    docker = krita.factories[0].createDockWidget()
    panel = docker.panel
    assert panel.colour.current() == "" and panel.params().colour == ""
    panel.colour.set_colour("#C02040")
    assert panel.colour.current() == "#c02040" and panel.colour.button.text() == "#c02040"
    assert krita.readSetting("sketch_variants", "colour", "") == "#c02040"
    panel.colour.one_colour.setChecked(False)
    assert panel.params().colour == "" and panel.colour.button.text() == "each its own"


class _DrawnAtEveryCheck:
    """A host whose layer changes before every check and takes 20 ms to read, like a big layer
    while the artist draws."""

    def __init__(self) -> None:
        self.fingerprint = 0
        self.reads = 0

    def layer_fingerprint(self, target: Target) -> int:
        self.fingerprint += 1
        return self.fingerprint

    def read_layer(self, target: Target) -> Sketch:
        self.reads += 1
        time.sleep(0.02)
        return Sketch(bgra=bytes([0, 0, 0, self.reads % 256]), box=Box(0, 0, 1, 1))


def test_a_slow_layer_changing_at_every_check_is_read_at_most_a_share_of_the_time() -> None:
    host = _DrawnAtEveryCheck()
    client = EngineClient()
    never_ready, ignored = (lambda: False), (lambda *args, **changes: None)
    live = LiveMode(client, Worker(), host, Params, never_ready, ignored, ignored)  # type: ignore[arg-type]
    live.start(Target(None, "sketch-id", "sketch"), Sketch(bgra=bytes(4), box=Box(0, 0, 1, 1)))
    live._timer.stop()  # the checks below are the timer's
    started = time.monotonic()
    checks = 0
    while time.monotonic() - started < 0.6:
        live.check()
        checks += 1
        time.sleep(0.005)
    # Every check found a change; reading each would take 20 of every 25 ms. Spaced to a fifth
    # of the time, about one read per 100 ms remains: still following the brush.
    assert checks >= 10
    assert 2 <= host.reads <= 0.6 / 0.02 * READ_SHARE + 2
