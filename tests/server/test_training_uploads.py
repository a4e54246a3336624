"""A training upload is checked cheapest first: a full queue, a taken name or a full disk is
refused before any drawing is decoded, and decoding waits for the process's decode budget."""

from __future__ import annotations

import base64
import shutil
import threading

import numpy as np
import pytest

from engine.data.procedural import TRAIN_SEED, make_eyes
from engine.images import DECODES, encode_png
from engine.models_store import ModelStore
from tests.fakes.fake_engine import FakeEngine


def _drawings(count: int = 8, side: int = 40) -> list[str]:
    drawings, _ = make_eyes(count, TRAIN_SEED, side)
    alpha = np.full((side, side, 1), 255, np.uint8)
    return [base64.b64encode(encode_png(np.concatenate([d, alpha], -1))).decode() for d in drawings]


@pytest.fixture
def store(tmp_path, tiny_model_dir) -> ModelStore:
    return ModelStore(tmp_path / "data", default_dir=tiny_model_dir)


def _submit(served, name: str, drawings: list[str], steps: int = 20000):
    body = {"name": name, "drawings": drawings, "steps": steps}
    return served.client.request("POST", "/v1/trainings", body)


def test_a_full_queue_refuses_before_reading_a_drawing(serve, store):
    served = serve(FakeEngine(), store=store)
    accepted = [_submit(served, f"long {n}", _drawings()) for n in range(5)]
    assert [answer.status for answer in accepted] == [202] * 5  # one runs, four wait
    # Not base64, and the most drawings a training takes: still a 429, not a 400 about them.
    answer = _submit(served, "one more", ["%%% not a drawing"] * 2000)
    assert answer.status == 429 and answer.headers["Retry-After"] == "60"
    assert answer.json()["error"].startswith("the queue is full")
    for training in accepted:
        served.client.request("DELETE", f"/v1/trainings/{training.json()['id']}")


def test_a_taken_name_is_refused_before_reading_a_drawing(serve, store, tiny_model_dir):
    shutil.copytree(tiny_model_dir, store.models_dir / "Ink")
    served = serve(FakeEngine(), store=store)
    answer = _submit(served, "ink", ["%%%"] * 8)
    assert answer.status == 409


def test_a_full_disk_budget_is_refused_before_decoding_and_nothing_is_written(
    serve, tmp_path, tiny_model_dir
):
    store = ModelStore(tmp_path / "data", default_dir=tiny_model_dir, disk_budget=2**20)
    served = serve(FakeEngine(), store=store)
    white = base64.b64encode(encode_png(np.full((40, 40, 4), 255, np.uint8))).decode()
    answer = _submit(served, "leaves", [white] * 8, steps=3)  # empty drawings: not looked at
    assert answer.status == 400
    error = answer.json()["error"]
    assert error.startswith("trained models and trainings take 0.0 GB of the 0.0 GB")
    assert error.endswith("delete models you no longer use, then try again")
    assert not store.root.exists()


def test_an_upload_decodes_within_the_process_decode_budget(serve, store):
    served = serve(FakeEngine(), store=store)
    answers: list[int] = []
    with DECODES.hold(DECODES.limit):  # the budget is all taken: the upload's decodes wait
        thread = threading.Thread(
            target=lambda: answers.append(_submit(served, "patient", _drawings(), 1).status)
        )
        thread.start()
        thread.join(1.0)
        assert thread.is_alive() and not answers
        # Meanwhile the server answers, and refuses what needs no decoding.
        assert _submit(served, "Default", _drawings()).status == 400
    thread.join(30)
    assert answers == [202]


def _noisy_drawing(number: int) -> str:
    """A ~200 KB drawing: 240 px of colour noise (PNG cannot shrink it) with a dark stroke."""
    rng = np.random.default_rng(number)
    pixels = rng.integers(0, 256, (240, 240, 4), dtype=np.uint8)
    pixels[..., 3] = 255
    pixels[116:124, 20:220, :3] = 10
    return base64.b64encode(encode_png(pixels)).decode()


def _upload(served, batches: list[list[str]]) -> str:
    created = served.client.request("POST", "/v1/uploads")
    assert created.status == 201 and created.json()["drawings"] == 0
    upload_id = created.json()["id"]
    assert created.headers["Location"] == f"/v1/uploads/{upload_id}"
    held = 0
    for batch in batches:
        answer = served.client.request(
            "POST", f"/v1/uploads/{upload_id}/drawings", {"drawings": batch}
        )
        held += len(batch)
        assert answer.status == 200 and answer.json() == {"id": upload_id, "drawings": held}
    return upload_id


def test_2000_drawings_of_200_kb_are_uploaded_in_batches_and_taught_in_one_training(serve, store):
    served = serve(FakeEngine(), store=store)
    distinct = [_noisy_drawing(number) for number in range(20)]
    assert 180_000 < len(base64.b64decode(distinct[0])) < 220_000
    # 100 drawings a batch (20 MB of PNG, under the 32 MB body limit), 2000 in all.
    upload_id = _upload(served, [distinct * 5] * 20)
    body = {"name": "many", "upload": upload_id, "steps": 1}
    answer = served.client.request("POST", "/v1/trainings", body)
    assert answer.status == 202, answer.body
    assert answer.json()["id"] == upload_id and answer.json()["drawings"] == 2000
    final = [data for name, data in served.client.events(upload_id, kind="trainings")][-1]
    assert final["state"] == "done", final
    assert (store.models_dir / "many").is_dir() and not store.training_dir(upload_id).exists()


def test_an_upload_refuses_bad_batches_unknown_ids_and_too_few_drawings(serve, store):
    served = serve(FakeEngine(), store=store)
    upload_id = _upload(served, [_drawings(3)])
    bad = served.client.request(
        "POST", f"/v1/uploads/{upload_id}/drawings", {"drawings": [_drawings(1)[0], "%%%"]}
    )
    assert bad.status == 400
    assert bad.json()["error"] == "drawing 2 is not valid base64: send each drawing as base64 PNG"
    drawings = store.training_dir(upload_id) / "drawings"
    assert len(list(drawings.iterdir())) == 3  # nothing of the bad batch was written
    few = served.client.request("POST", "/v1/trainings", {"name": "few", "upload": upload_id})
    assert few.status == 400
    assert few.json()["error"] == "3 drawings are too few: send at least 8 finished drawings"
    both = {"name": "both", "upload": upload_id, "drawings": _drawings(8)}
    assert served.client.request("POST", "/v1/trainings", both).json()["error"] == (
        "send drawings or an upload, not both"
    )
    unknown = served.client.request("POST", f"/v1/uploads/{'0' * 32}/drawings", {"drawings": []})
    assert unknown.status == 404
    assert unknown.json()["error"].startswith("unknown upload '000")
    stranger = served.client.request("POST", "/v1/trainings", {"name": "x", "upload": "../x"})
    assert stranger.status == 404
