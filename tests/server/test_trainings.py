"""Training jobs against a real server on loopback with the tiny real model: progress, previews,
cancel and resume, the model listed and used by name, refusals, and generation during training."""

from __future__ import annotations

import base64
import io
import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.data.procedural import TRAIN_SEED, make_eyes
from engine.images import decode_image, encode_png
from engine.models_store import ModelStore
from engine.weights import UPSCALER_DIR
from tests.fakes.fake_engine import FakeEngine, sketch


def _drawings(count: int, side: int = 48) -> list[str]:
    drawings, _ = make_eyes(count, TRAIN_SEED, side)
    alpha = np.full((side, side, 1), 255, np.uint8)
    return [base64.b64encode(encode_png(np.concatenate([d, alpha], -1))).decode() for d in drawings]


def _files(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


@pytest.fixture
def store(tmp_path, tiny_model_dir) -> ModelStore:
    """Models and trainings under tmp_path/data; "default" is the tiny one-stage model."""
    return ModelStore(tmp_path / "data", default_dir=tiny_model_dir)


@pytest.fixture
def two_stage_store(tmp_path, tiny_two_stage_dir) -> ModelStore:
    """As `store`, with the tiny two-stage model as "default", its upsampler fed 32 px images
    (the tiny model's side), as a real model's upsampler is fed its stage 1's."""
    default = tmp_path / "two-stage"
    shutil.copytree(tiny_two_stage_dir, default)
    config = default / UPSCALER_DIR / "config.json"
    document = json.loads(config.read_text())
    document["config"]["train"]["low_size"] = 32
    config.write_text(json.dumps(document))
    return ModelStore(tmp_path / "data", default_dir=default)


def _real(serve, store, engine):
    from engine.pipeline import Engine

    return serve(engine, store=store, load_engine=lambda n: Engine.load(store.resolve(n)))


@pytest.fixture
def real(serve, store, tiny_engine):
    """A server around the tiny real engine that trains into `store` and loads models from it."""
    return _real(serve, store, tiny_engine)


def _train(served, name: str, count: int = 8, steps: int = 3, **extra) -> str:
    body = {"name": name, "drawings": _drawings(count), "steps": steps, **extra}
    answer = served.client.request("POST", "/v1/trainings", body)
    assert answer.status == 202, answer.body
    assert answer.headers["Location"] == f"/v1/trainings/{answer.json()['id']}"
    return answer.json()["id"]


def _events(served, training_id: str) -> list[tuple[str, dict]]:
    return list(served.client.events(training_id, kind="trainings"))


def test_a_training_reports_progress_and_previews_and_its_model_is_listed_and_used(
    serve, two_stage_store, tiny_engine
):
    store = two_stage_store
    real = _real(serve, store, tiny_engine)
    training_id = _train(real, "my flowers")
    events = _events(real, training_id)
    states = [data["state"] for name, data in events if name == "state"]
    assert states[0] == "queued" and "running" in states and states[-1] == "done"
    progress = [data for name, data in events if name == "progress"]
    # Both stages learn: 3 diffusion steps, then 3 upsampler steps, counted as one total.
    assert [(p["stage"], p["step"]) for p in progress] == [
        ("diffusion", 1),
        ("diffusion", 2),
        ("diffusion", 3),
        ("upscaler", 4),
        ("upscaler", 5),
        ("upscaler", 6),
    ]
    assert all(p["total"] == 6 and p["loss"] > 0 and p["images_per_s"] > 0 for p in progress)
    assert progress[-1]["eta_s"] == 0
    previews = [data for name, data in events if name == "preview"]
    assert previews, "a preview at the end of the diffusion stage at least"
    images = [decode_image(base64.b64decode(png)) for png in previews[-1]["images"]]
    assert len(images) == 4 and all(image.shape == (32, 32, 4) for image in images)
    final = events[-1][1]
    assert final["model"] == "my flowers" and final["step"] == final["total"] == 6

    models = real.client.request("GET", "/v1/models").json()["models"]
    entry = next(model for model in models if model["name"] == "my flowers")
    assert not entry["shipped"] and models[0] == {**models[0], "name": "default", "shipped": True}
    assert entry["provenance"]["training"]["drawings"] == 8
    assert entry["provenance"]["fine_tuned_from"]["path"] == str(store.default_dir)
    # Only the finished model stays, inside the data folder, without its checkpoints.
    assert {Path(f).parts[0] for f in _files(store.root)} == {"models"}
    assert not any("checkpoint" in f for f in _files(store.root))

    by_name = real.client.submit(sketch(1, 40, 40), count=2, steps=3, seed=5, model="my flowers")
    default = real.client.submit(sketch(1, 40, 40), count=2, steps=3, seed=5)
    assert real.client.wait(by_name)["state"] == real.client.wait(default)["state"] == "done"
    mine, shipped = real.client.result(by_name), real.client.result(default)
    assert not np.array_equal(mine[0][1], shipped[0][1])  # another model drew them


def test_cancel_keeps_a_resumable_checkpoint_and_resume_finishes_the_model(serve, store):
    # A held generation job pauses the training between two steps: cancel lands there.
    served = serve(FakeEngine(hold=True), store=store)
    training_id = _train(served, "leaves", steps=40)
    stream = served.client.events(training_id, kind="trainings")
    next(data for name, data in stream if name == "progress")
    job = served.client.submit(sketch(2), count=1, steps=2)
    next(data for name, data in stream if name == "state" and data["paused"])
    answer = served.client.request("DELETE", f"/v1/trainings/{training_id}")
    assert answer.status == 200 and answer.json()["cancel_requested"]
    final = [data for name, data in stream if name == "state"][-1]
    assert final["state"] == "cancelled" and final["resumable"]
    assert 0 < final["step"] < 40
    assert "resume" in final["error"]
    names = [m["name"] for m in served.client.request("GET", "/v1/models").json()["models"]]
    assert names == ["default"]  # the partial model is not a model
    checkpoint = store.training_dir(training_id) / "model" / "checkpoint" / "state.json"
    assert checkpoint.is_file()
    served.engine.release.set()
    assert served.client.wait(job)["state"] == "done"

    resumed = served.client.request("POST", f"/v1/trainings/{training_id}/resume")
    assert resumed.status == 202 and resumed.json()["id"] != training_id
    events = _events(served, resumed.json()["id"])
    progress = [data for name, data in events if name == "progress"]
    assert progress[0]["step"] > 1  # went on from the checkpoint, not from step 1
    assert events[-1][1]["state"] == "done"
    document = store.resolve("leaves") / "config.json"
    assert '"trained_steps": 40' in document.read_text()
    again = served.client.request("POST", f"/v1/trainings/{training_id}/resume")
    assert again.status == 400 and "nothing to resume" in again.json()["error"]


def test_generation_runs_during_a_training_which_pauses_and_goes_on(real):
    training_id = _train(real, "busy", steps=60)
    stream = real.client.events(training_id, kind="trainings")
    next(data for name, data in stream if name == "progress")
    job = real.client.submit(sketch(3, 40, 40), count=2, steps=4)
    assert real.client.wait(job)["state"] == "done"
    rest = list(stream)
    paused = [data["paused"] for name, data in rest if name == "state"]
    assert True in paused and paused[paused.index(True) + 1] is False  # paused, then resumed
    assert rest[-1][1]["state"] == "done"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"drawings": 7}, "7 drawings are too few: send at least 8 finished drawings"),
        ({"bad": "aGVsbG8="}, "drawing 3 is not a PNG image: export the drawings as PNG"),
        ({"bad": "%%%"}, "drawing 3 is not valid base64: send each drawing as base64 PNG"),
        ({"bad": "white"}, "drawing 3 is empty: every drawing needs visible lines on it"),
        ({"name": "../evil"}, "model name '../evil' is not allowed: use 1 to 48 letters"),
        ({"name": "a/b"}, "model name 'a/b' is not allowed"),
        ({"name": ""}, "model name '' is not allowed"),
        ({"name": "Default"}, "'Default' is the shipped model's name: pick another name"),
        ({"from": "nobody"}, "unknown model 'nobody': the models are default"),
        ({"steps": 0}, "steps: Input should be greater than or equal to 1"),
    ],
)
def test_bad_trainings_are_refused_in_one_line_before_anything_is_written(
    serve, store, change, message
):
    served = serve(FakeEngine(), store=store)
    drawings = _drawings(change.get("drawings", 8))
    if change.get("bad") == "white":
        white = np.full((40, 40, 4), 255, np.uint8)
        drawings[2] = base64.b64encode(encode_png(white)).decode()
    elif "bad" in change:
        drawings[2] = change["bad"]
    body = {"name": change.get("name", "ok"), "drawings": drawings, "steps": change.get("steps", 3)}
    if "from" in change:
        body["from"] = change["from"]
    answer = served.client.request("POST", "/v1/trainings", body)
    assert answer.status == 400
    assert answer.json()["error"].startswith(message)
    assert "\n" not in answer.json()["error"]
    assert not store.root.exists()  # nothing of the artist's was written


def test_names_are_unique_and_models_can_be_deleted_except_the_shipped_one(real, store):
    training_id = _train(real, "ink")
    _events(real, training_id)
    taken = real.client.request("POST", "/v1/trainings", {"name": "ink", "drawings": _drawings(8)})
    assert taken.status == 409 and "pick another name" in taken.json()["error"]
    shipped = real.client.request("DELETE", "/v1/models/default")
    assert (
        shipped.status == 400 and shipped.json()["error"] == "the shipped model cannot be deleted"
    )
    unknown = real.client.request("DELETE", "/v1/models/nobody")
    assert unknown.status == 404
    assert real.client.request("DELETE", "/v1/models/ink").status == 200
    names = [m["name"] for m in real.client.request("GET", "/v1/models").json()["models"]]
    assert names == ["default"] and not (store.models_dir / "ink").exists()
    job = real.client.request(
        "POST", "/v1/jobs", {"sketch_png": _drawings(1)[0], "model": "ink", "count": 1}
    )
    assert job.status == 400 and job.json()["error"].startswith("unknown model 'ink'")


def test_a_server_without_a_model_store_has_no_training_routes(served):
    answer = served.client.request("POST", "/v1/trainings", {"name": "x", "drawings": []})
    assert answer.status == 404


def test_closing_the_server_cancels_a_running_training_with_its_checkpoint(serve, store):
    served = serve(FakeEngine(), store=store)
    training_id = _train(served, "late", steps=2000)
    stream = served.client.events(training_id, kind="trainings")
    next(data for name, data in stream if name == "progress")
    closer = threading.Thread(target=served.server.close)
    closer.start()
    final = [data for name, data in stream if name == "state"][-1]
    closer.join()
    assert final["state"] == "cancelled" and final["resumable"]
    assert (store.training_dir(training_id) / "model" / "checkpoint").is_dir()


def test_drawings_of_any_size_with_transparency_are_accepted(serve, store):
    served = serve(FakeEngine(), store=store)
    drawings = _drawings(8)
    wide = Image.new("RGBA", (300, 120), (0, 0, 0, 0))
    wide.paste(Image.new("RGBA", (200, 4), (20, 40, 200, 255)), (50, 60))
    buffer = io.BytesIO()
    wide.save(buffer, format="PNG")
    drawings[0] = base64.b64encode(buffer.getvalue()).decode()
    answer = served.client.request(
        "POST", "/v1/trainings", {"name": "wide", "drawings": drawings, "steps": 1}
    )
    assert answer.status == 202
    final = _events(served, answer.json()["id"])[-1][1]
    assert final["state"] == "done", final


def test_the_training_benchmark_times_a_job_idle_and_during_a_training(tiny_engine, tiny_model_dir):
    from engine.measure.training_bench import bench_generation_during_training
    from engine.request import GenerateRequest

    request = GenerateRequest(sketch=sketch(4, 40, 40), count=2, steps=3, seed=0)
    figures = bench_generation_during_training(
        tiny_engine, tiny_model_dir, request, _drawings(8), repeats=1
    )
    assert figures["idle_seconds"] > 0 and figures["during_training_seconds"] > 0
    assert figures["training_step_seconds"] > 0


def test_a_training_in_the_server_writes_nothing_on_stderr(serve, store, capsys):
    # The engine's stderr is the terminal (or the plugin's log) it was started from: progress
    # goes to the training's events only.
    served = serve(FakeEngine(), store=store)
    final = _events(served, _train(served, "quiet", steps=2))[-1][1]
    assert final["state"] == "done"
    assert capsys.readouterr().err == ""
