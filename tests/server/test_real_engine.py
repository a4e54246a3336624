"""The server around a real Engine (the tiny untrained model): same bits as calling it directly."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from engine.request import GenerateRequest
from tests.fakes.fake_engine import sketch


@pytest.fixture
def real(tiny_engine, serve):
    """A server around the shared tiny real Engine."""
    return serve(tiny_engine)


def _ink(seed: int, height: int, width: int) -> np.ndarray:
    # Dark strokes on transparent paper, like a real sketch layer.
    image = np.zeros((height, width, 4), np.uint8)
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, height, 40)
    cols = rng.integers(0, width, 40)
    image[rows, cols] = (20, 20, 20, 255)
    return image


@pytest.mark.parametrize(
    "params",
    [{}, {"mode": "sdedit", "strength": 0.4, "radius": 5}, {"mode": "noise"}],
    ids=["mask", "sdedit", "noise"],
)
def test_server_results_are_bit_identical_to_engine_generate(real, params):
    image = _ink(1, 37, 45)
    job_id = real.client.submit(image, seed=1042, count=2, steps=3, **params)
    final = real.client.wait(job_id)
    assert final["state"] == "done", final
    assert final["step"] == final["total"] and final["total"] > 0
    served = real.client.result(job_id)
    direct = real.engine.generate(
        GenerateRequest(sketch=image, seed=1042, count=2, steps=3, **params)
    )
    assert [seed for seed, _ in served] == [1042, 1043]
    for (seed, got), expected in zip(served, direct.variants, strict=True):
        assert seed == expected.seed
        assert got.shape == image.shape
        np.testing.assert_array_equal(got, expected.image)


def test_real_engine_empty_sketch_fails_the_job_only(real):
    empty = np.zeros((16, 16, 4), np.uint8)
    final = real.client.wait(real.client.submit(empty, count=1, steps=1))
    assert final["state"] == "failed"
    assert final["error"].startswith("sketch is empty")
    ok = real.client.submit(_ink(2, 16, 16), count=1, steps=1)
    assert real.client.wait(ok)["state"] == "done"


def test_real_engine_health_names_model_and_device(real):
    health = real.client.request("GET", "/v1/health").json()
    info = real.engine.info
    assert health["device"] == info["device"]
    assert health["model"]["image_size"] == info["image_size"]
    assert health["model"]["parameters"] == info["parameters"]


def test_real_engine_cancel_while_running_keeps_serving(real):
    # Cancel timing against a real model is not deterministic; whichever way it lands, the
    # job ends in a final state and the next job runs.
    job_id = real.client.submit(sketch(3, 16, 16), count=4, steps=8)
    real.client.request("DELETE", f"/v1/jobs/{job_id}")
    assert real.client.wait(job_id)["state"] in ("cancelled", "done")
    ok = real.client.submit(_ink(4, 16, 16), count=1, steps=1)
    assert real.client.wait(ok)["state"] == "done"


@pytest.mark.parametrize(
    ("section", "field", "value"),
    [
        ("network", "image_size", 0),
        ("network", "widths", "wide"),
        ("schedule", "levels", 0),
        ("network", "block_depth", True),
    ],
)
def test_a_broken_model_folder_is_a_400_naming_the_field(
    serve, tiny_engine, tiny_model_dir, tmp_path, section, field, value
):
    from engine.pipeline import Engine

    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    document = json.loads((broken / "config.json").read_text())
    document["config"][section][field] = value
    (broken / "config.json").write_text(json.dumps(document))
    real = serve(tiny_engine, load_engine=lambda name: Engine.load(tmp_path / name))
    answer = real.client.request("POST", "/v1/models/select", {"name": "broken"})
    assert answer.status == 400
    assert f"{section}.{field}" in answer.json()["error"]
    assert real.client.request("GET", "/v1/health").json()["model"]["selected"] == "default"
