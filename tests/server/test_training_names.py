"""Model names are refused at submit time when Windows or macOS could not keep them apart or at all:
a case variant of a stored model, and the names Windows keeps for devices."""

from __future__ import annotations

import base64
import shutil

import numpy as np
import pytest

from engine.data.procedural import TRAIN_SEED, make_eyes
from engine.errors import EngineError
from engine.images import encode_png
from engine.models_store import ModelStore, check_model_name
from tests.fakes.fake_engine import FakeEngine


@pytest.fixture
def served_with_ink(serve, tmp_path, tiny_model_dir):
    """A server whose store holds a trained model called "Ink"."""
    store = ModelStore(tmp_path / "data", default_dir=tiny_model_dir)
    shutil.copytree(tiny_model_dir, store.models_dir / "Ink")
    return serve(FakeEngine(), store=store), store


def _body(name: str) -> dict:
    drawings, _ = make_eyes(8, TRAIN_SEED, 40)
    alpha = np.full((40, 40, 1), 255, np.uint8)
    pngs = [encode_png(np.concatenate([d, alpha], -1)) for d in drawings]
    return {"name": name, "drawings": [base64.b64encode(p).decode() for p in pngs], "steps": 1}


@pytest.mark.parametrize("name", ["ink", "INK", "iNk"])
def test_a_case_variant_of_a_stored_model_is_refused_in_one_line(served_with_ink, name):
    served, store = served_with_ink
    answer = served.client.request("POST", "/v1/trainings", _body(name))
    assert answer.status == 409
    assert answer.json()["error"] == (
        "a model named 'Ink' exists or is being trained: pick another name"
    )
    assert not store.trainings_dir.exists()


@pytest.mark.parametrize("name", ["con", "CON", "Nul", "aux.png", "com1", "COM9.v2", "lpt3", "prn"])
def test_names_windows_keeps_for_devices_are_refused_in_one_line(served_with_ink, name):
    served, store = served_with_ink
    answer = served.client.request("POST", "/v1/trainings", _body(name))
    assert answer.status == 400
    assert answer.json()["error"] == (
        f"{name!r} is a name Windows keeps for a device: pick another name"
    )
    assert not store.trainings_dir.exists()


def test_a_case_variant_of_a_running_training_is_refused(served_with_ink):
    served, _ = served_with_ink
    first = served.client.request("POST", "/v1/trainings", {**_body("Leaves"), "steps": 2000})
    assert first.status == 202
    second = served.client.request("POST", "/v1/trainings", _body("LEAVES"))
    assert second.status == 409 and "'Leaves'" in second.json()["error"]
    served.client.request("DELETE", f"/v1/trainings/{first.json()['id']}")


@pytest.mark.parametrize("name", ["cone", "console", "com", "com10", "lpt", "auxiliary", "null"])
def test_names_that_only_begin_like_a_device_are_allowed(name):
    assert check_model_name(name) == name


def test_installing_over_a_case_variant_is_refused(tmp_path, tiny_model_dir):
    store = ModelStore(tmp_path / "data", default_dir=tiny_model_dir)
    shutil.copytree(tiny_model_dir, store.models_dir / "Ink")
    trained = tmp_path / "trained"
    shutil.copytree(tiny_model_dir, trained)
    with pytest.raises(EngineError, match="a model named 'Ink' exists"):
        store.install(trained, "INK", {})
    assert trained.is_dir()
