"""Trainings survive restarts: after kill -9 or a clean stop the server lists every queued, running
or cancelled training again, and it goes on from its last checkpoint to the weights of an
uninterrupted run; trainings abandoned long enough are deleted."""

from __future__ import annotations

import base64
import json
import random
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from engine.data.procedural import TRAIN_SEED, make_eyes
from engine.images import encode_png
from engine.models_store import ModelStore
from engine.server.client import Client
from engine.server.ready import parse_ready_line
from engine.server.training_records import (
    ABANDONED_AFTER,
    RECORD_FILE,
    UNRECORDED_AFTER,
    read_records,
)
from engine.trainer import CHECKPOINT_DIR, STATE_FILE
from engine.training import TrainOptions, train_model
from engine.weights import load_model
from tests.fakes import FAKE_SERVE
from tests.fakes.fake_engine import FakeEngine
from tests.server.processes import first_line, spawn, stderr_tail, stop

STEPS = 120  # checkpoints at steps 50, 100 and 120 (trainings.CHECKPOINT_EVERY)


def _pngs() -> list[bytes]:
    drawings, _ = make_eyes(8, TRAIN_SEED, 40)
    alpha = np.full((40, 40, 1), 255, np.uint8)
    return [encode_png(np.concatenate([d, alpha], -1)) for d in drawings]


def _body(name: str, steps: int = STEPS) -> dict:
    drawings = [base64.b64encode(png).decode() for png in _pngs()]
    return {"name": name, "drawings": drawings, "steps": steps}


def _uninterrupted(tmp_path: Path, tiny_model_dir: Path) -> list[np.ndarray]:
    """The weights the same training gets in one go (the server's options, this process)."""
    drawings = tmp_path / "straight-drawings"
    drawings.mkdir()
    for number, png in enumerate(_pngs(), start=1):
        (drawings / f"{number}.png").write_bytes(png)
    out = tmp_path / "straight"
    train_model(
        TrainOptions(drawings, out, tiny_model_dir, "diffusion", steps=STEPS, upscaler_steps=STEPS)
    )
    return load_model(out)[0].get_weights()


def _start(tmp_path: Path, store: ModelStore):
    token_file = tmp_path / "token"
    command = [sys.executable, str(FAKE_SERVE), "--token-file", str(token_file)]
    command += ["--store", str(store.root), "--default-model", str(store.default_dir)]
    process = spawn(command, tmp_path)
    url = parse_ready_line(first_line(process, tmp_path, timeout=120))
    assert url is not None, stderr_tail(tmp_path)
    return process, Client(url, token_file.read_text().strip(), timeout=60)


def _final(client: Client, training_id: str) -> dict:
    return [data for name, data in client.events(training_id, kind="trainings")][-1]


@pytest.mark.parametrize("moment", ["just after it was accepted", "at a random moment of a step"])
def test_kill_9_then_a_restart_lists_the_training_and_finishes_it_with_the_same_weights(
    tmp_path, tiny_model_dir, moment
):
    store = ModelStore(tmp_path / "data", default_dir=tiny_model_dir)
    process, client = _start(tmp_path, store)
    try:
        answer = client.request("POST", "/v1/trainings", _body("kept"))
        assert answer.status == 202
        training_id = answer.json()["id"]
        if moment != "just after it was accepted":
            # Once a checkpoint is written, kill it at a random moment: steps and writes go on.
            state = store.training_dir(training_id) / "model" / CHECKPOINT_DIR / STATE_FILE
            deadline = time.monotonic() + 300
            while not state.exists():
                assert time.monotonic() < deadline, stderr_tail(tmp_path)
                time.sleep(0.01)
            time.sleep(random.Random(7).uniform(0.0, 0.5))
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    finally:
        stop(process)

    process, client = _start(tmp_path, store)
    try:
        listed = client.request("GET", "/v1/trainings").json()["trainings"]
        assert [(t["id"], t["name"]) for t in listed] == [(training_id, "kept")]
        assert listed[0]["state"] in ("queued", "running")
        final = _final(client, training_id)
        assert final["state"] == "done", final
    finally:
        stop(process)
    expected = _uninterrupted(tmp_path, tiny_model_dir)
    trained = load_model(store.models_dir / "kept")[0].get_weights()
    for a, b in zip(expected, trained, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_clean_stop_keeps_a_running_training_running_and_a_cancelled_one_resumable(
    serve, tmp_path, tiny_model_dir
):
    store = ModelStore(tmp_path / "data", default_dir=tiny_model_dir)
    served = serve(FakeEngine(), store=store)
    cancelled = served.client.request("POST", "/v1/trainings", _body("cancelled", 20000)).json()
    running = served.client.request("POST", "/v1/trainings", _body("running", 3)).json()
    stream = served.client.events(cancelled["id"], kind="trainings")
    next(data for name, data in stream if name == "progress")  # it is in its steps
    served.client.request("DELETE", f"/v1/trainings/{cancelled['id']}")
    assert [data for name, data in stream][-1]["state"] == "cancelled"
    served.engine.release.set()
    served.server.close()  # the second one was waiting, then running: a clean stop
    record = json.loads((store.training_dir(running["id"]) / RECORD_FILE).read_text())
    assert record["state"] in ("queued", "running")

    again = serve(FakeEngine(), store=store)
    listed = {t["id"]: t for t in again.client.request("GET", "/v1/trainings").json()["trainings"]}
    assert listed[cancelled["id"]]["state"] == "cancelled"
    assert listed[cancelled["id"]]["resumable"] and listed[cancelled["id"]]["step"] > 0
    assert _final(again.client, running["id"])["state"] == "done"
    resumed = again.client.request("POST", f"/v1/trainings/{cancelled['id']}/resume")
    assert resumed.status == 202
    again.client.request("DELETE", f"/v1/trainings/{resumed.json()['id']}")


def test_trainings_abandoned_long_enough_are_deleted_and_others_kept(tmp_path, tiny_model_dir):
    store = ModelStore(tmp_path / "data", default_dir=tiny_model_dir)
    later = time.time() + UNRECORDED_AFTER + 60  # a folder made now is a crash's by then

    def folder(name: str, state: str | None, age: float) -> Path:
        path = store.training_dir(name)
        path.mkdir(parents=True)
        if state is not None:
            record = {"id": name, "state": state, "updated": later - age, "created": later - age}
            (path / RECORD_FILE).write_text(json.dumps(record))
        return path

    old_cancelled = folder("old-cancelled", "cancelled", ABANDONED_AFTER + 60)
    old_failed = folder("old-failed", "failed", ABANDONED_AFTER + 60)
    recent_cancelled = folder("recent-cancelled", "cancelled", ABANDONED_AFTER - 60)
    old_queued = folder("old-queued", "queued", ABANDONED_AFTER + 60)  # still to run
    crashed = folder("crashed", None, 0)
    found = [path.name for path, _ in read_records(store, now=later)]
    assert not old_cancelled.exists() and not old_failed.exists() and not crashed.exists()
    assert recent_cancelled.exists() and old_queued.exists()
    assert sorted(found) == ["old-queued", "recent-cancelled"]


def test_a_finished_training_can_be_discarded_with_its_files_a_running_one_cannot(
    serve, tmp_path, tiny_model_dir
):
    store = ModelStore(tmp_path / "data", default_dir=tiny_model_dir)
    served = serve(FakeEngine(), store=store)
    training = served.client.request("POST", "/v1/trainings", _body("left", 20000)).json()
    path = f"/v1/trainings/{training['id']}"
    refused = served.client.request("DELETE", f"{path}/files")
    assert refused.status == 409
    assert refused.json()["error"] in (
        "this training is queued: cancel it first",
        "this training is running: cancel it first",
    )
    served.client.request("DELETE", path)
    assert _final(served.client, training["id"])["state"] == "cancelled"
    assert store.training_dir(training["id"]).is_dir()  # kept to resume
    answer = served.client.request("DELETE", f"{path}/files")
    assert answer.status == 200 and answer.json() == {"trainings": []}
    assert not store.training_dir(training["id"]).exists()
    assert served.client.request("GET", path).status == 404
    assert served.client.request("DELETE", f"{path}/files").status == 404
