"""The whole API on a real loopback server: health, schema, jobs, results, models."""

from __future__ import annotations

import base64
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from engine import __version__
from engine.errors import EngineError
from engine.images import encode_png
from engine.request import DEFAULT_COUNT, GenerateRequest
from engine.server.payload import JOB_FIELDS
from tests.fakes.fake_engine import FakeEngine, FakeModel, fake_image, sketch


def test_health_reports_version_model_device_and_queue(served):
    answer = served.client.request("GET", "/v1/health")
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/json"
    health = answer.json()
    assert health["version"] == __version__
    assert health["model"] == {
        "name": "fake",
        "image_size": 32,
        "parameters": 1234,
        "selected": "default",
    }
    assert health["device"] == "CPU"
    assert health["queue_length"] == 0
    assert health["running"] is None


def test_health_tells_a_client_it_reached_a_sketch_variants_engine(served):
    health = served.client.request("GET", "/v1/health").json()
    assert health["service"] == "sketch-variants"
    assert health["version"] == __version__
    assert health["status"] == "ok"


def test_openapi_schema_is_generated_from_the_typed_models(served):
    schema = served.client.request("GET", "/openapi.json").json()
    job = schema["components"]["schemas"]["JobRequest"]
    assert set(job["properties"]) == set(JOB_FIELDS)
    assert job["additionalProperties"] is False
    assert job["properties"]["count"]["anyOf"][0] == {
        "maximum": 16,
        "minimum": 1,
        "type": "integer",
    }
    post = schema["paths"]["/v1/jobs"]["post"]
    assert set(post["responses"]) >= {"202", "400", "401", "429"}
    health = schema["components"]["schemas"]["Health"]
    assert health["properties"]["service"]["const"] == "sketch-variants"
    assert schema["security"] == [{"bearer": []}]
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    events = schema["paths"]["/v1/jobs/{id}/events"]["get"]["responses"]["200"]["content"]
    assert "text/event-stream" in events


def test_openapi_schema_lists_every_endpoint(served):
    answer = served.client.request("GET", "/openapi.json")
    assert answer.status == 200
    schema = answer.json()
    assert schema["openapi"].startswith("3.1")
    assert set(schema["paths"]) == {
        "/openapi.json",
        "/v1/health",
        "/v1/models",
        "/v1/models/select",
        "/v1/jobs",
        "/v1/jobs/{id}",
        "/v1/jobs/{id}/events",
        "/v1/jobs/{id}/result",
    }
    assert schema["components"]["schemas"]["JobRequest"]["required"] == ["sketch_png"]


def test_job_runs_to_its_own_variants(served):
    image = sketch(1, height=13, width=29)
    answer = served.client.request("POST", "/v1/jobs", _body(image, count=3, seed=40, steps=4))
    assert answer.status == 202
    job_id = answer.json()["id"]
    assert len(job_id) == 32 and int(job_id, 16) >= 0
    assert answer.headers["Location"] == f"/v1/jobs/{job_id}"
    assert served.client.wait(job_id)["state"] == "done"
    status = served.client.request("GET", f"/v1/jobs/{job_id}").json()
    assert status == {
        "id": job_id,
        "state": "done",
        "step": 4,
        "total": 4,
        "error": None,
        "cancel_requested": False,
    }
    variants = served.client.result(job_id)
    request = GenerateRequest(sketch=image, count=3, seed=40, steps=4)
    assert [seed for seed, _ in variants] == [40, 41, 42]
    for seed, variant in variants:
        assert variant.shape == image.shape  # RGBA at the sketch's own size
        np.testing.assert_array_equal(variant, fake_image(request, seed, "fake"))


def test_omitted_parameters_take_the_request_defaults(served):
    job_id = served.client.submit(sketch(2))
    served.client.wait(job_id)
    status = served.client.request("GET", f"/v1/jobs/{job_id}").json()
    assert status["total"] == FakeEngine.MODEL_STEPS  # the model's own
    seeds = [seed for seed, _ in served.client.result(job_id)]
    assert seeds == list(range(DEFAULT_COUNT))


def test_null_parameters_mean_defaults(served):
    job_id = served.client.submit(sketch(3), count=None, strength=None, mode=None, seed=5)
    served.client.wait(job_id)
    assert [seed for seed, _ in served.client.result(job_id)][:2] == [5, 6]


@pytest.mark.parametrize("toggle", ["upscale", "clean_fills"])
def test_a_toggle_reaches_the_engine_and_defaults_to_true(served, toggle):
    for given, expected in ((False, False), (True, True), (None, True)):
        job_id = served.client.submit(sketch(3), count=1, steps=1, **{toggle: given})
        assert served.client.wait(job_id)["state"] == "done"
        assert getattr(served.engine.requests[-1], toggle) is expected
    answer = served.client.request("POST", "/v1/jobs", _body(sketch(3), **{toggle: "yes"}))
    assert answer.status == 400 and answer.json()["error"].startswith(f"{toggle}:")


def test_colour_reaches_the_engine_and_a_bad_one_is_named(served):
    for given in ("#3A7bd5", None):
        job_id = served.client.submit(sketch(3), count=1, steps=1, colour=given)
        assert served.client.wait(job_id)["state"] == "done"
        assert served.engine.requests[-1].colour == given
    for bad in ("blue", "#12345", 7):
        answer = served.client.request("POST", "/v1/jobs", _body(sketch(3), colour=bad))
        assert answer.status == 400 and answer.json()["error"].startswith("colour:")


def test_results_match_calling_the_engine_directly(served):
    image = sketch(4)
    for params in ({"mode": "sdedit", "strength": 0.3}, {"mode": "noise", "radius": 9}, {}):
        job_id = served.client.submit(image, seed=11, count=2, steps=3, **params)
        served.client.wait(job_id)
        direct = FakeEngine().generate(
            GenerateRequest(sketch=image, seed=11, count=2, steps=3, **params)
        )
        served_variants = served.client.result(job_id)
        for (seed, got), expected in zip(served_variants, direct.variants, strict=True):
            assert seed == expected.seed
            np.testing.assert_array_equal(got, expected.image)


def test_result_is_409_until_done_and_jobs_run_in_fifo_order(serve):
    served = serve(FakeEngine(hold=True))
    ids = [served.client.submit(sketch(5), seed=seed, count=1, steps=2) for seed in (7, 3, 9, 1)]
    assert served.engine.started.wait(10)
    for job_id in ids:
        answer = served.client.request("GET", f"/v1/jobs/{job_id}/result")
        assert answer.status == 409
        assert answer.json()["error"].startswith(("job is running", "job is queued"))
    assert served.client.request("GET", "/v1/health").json()["queue_length"] == 3
    listed = served.client.request("GET", "/v1/jobs").json()["jobs"]
    assert [job["id"] for job in listed] == ids
    assert [job["state"] for job in listed] == ["running", "queued", "queued", "queued"]
    served.engine.release.set()
    for job_id in ids:
        assert served.client.wait(job_id)["state"] == "done"
    assert served.engine.seen == [7, 3, 9, 1]


def test_a_failed_job_reports_why_and_the_next_one_runs(served):
    empty = np.zeros((8, 8, 4), np.uint8)
    failed = served.client.submit(empty)
    final = served.client.wait(failed)
    assert final["state"] == "failed"
    assert final["error"].startswith("sketch is empty")
    answer = served.client.request("GET", f"/v1/jobs/{failed}/result")
    assert answer.status == 409 and "sketch is empty" in answer.json()["error"]
    ok = served.client.submit(sketch(6), count=1, steps=1)
    assert served.client.wait(ok)["state"] == "done"


def test_an_engine_bug_fails_only_its_job(served):
    served.engine.fail_with = RuntimeError("boom\nwith a second line")
    failed = served.client.submit(sketch(7), count=1, steps=1)
    final = served.client.wait(failed)
    assert final["state"] == "failed"
    assert final["error"] == "internal error: RuntimeError: boom with a second line"
    served.engine.fail_with = None
    ok = served.client.submit(sketch(7), count=1, steps=1)
    assert served.client.wait(ok)["state"] == "done"


def test_models_are_listed_and_switched(serve):
    engines = {"default": FakeEngine("default"), "mine": FakeEngine("mine")}
    models = [FakeModel("default", Path("/w/default")), FakeModel("mine", Path("/m/mine"))]

    def load_engine(name):
        if name not in engines:
            raise EngineError(f"unknown model {name!r}")
        return engines[name]

    served = serve(engines["default"], load_engine=load_engine, list_models=lambda: models)
    listing = served.client.request("GET", "/v1/models").json()
    assert listing == {
        "current": "default",
        "models": [
            {"name": "default", "path": "/w/default", "shipped": True, "provenance": None},
            {"name": "mine", "path": "/m/mine", "shipped": False, "provenance": None},
        ],
    }
    answer = served.client.request("POST", "/v1/models/select", {"name": "mine"})
    assert answer.status == 200
    assert answer.json()["model"]["selected"] == "mine"
    assert answer.json()["model"]["name"] == "mine"
    image = sketch(8)
    job_id = served.client.submit(image, count=1, steps=1, seed=3)
    served.client.wait(job_id)
    [(_, variant)] = served.client.result(job_id)
    request = GenerateRequest(sketch=image, count=1, steps=1, seed=3)
    np.testing.assert_array_equal(variant, fake_image(request, 3, "mine"))
    unknown = served.client.request("POST", "/v1/models/select", {"name": "nope"})
    assert unknown.status == 400 and "nope" in unknown.json()["error"]
    assert served.client.request("GET", "/v1/health").json()["model"]["selected"] == "mine"


def test_model_switch_waits_for_the_running_job(serve):
    old, new = FakeEngine("old", hold=True), FakeEngine("new")
    loaded_while_running: list[bool] = []

    def load_engine(name):
        loaded_while_running.append(old.running)
        return new

    served = serve(old, load_engine=load_engine)
    job_id = served.client.submit(sketch(9), count=1, steps=2)
    assert old.started.wait(10)
    answers = []
    switch = threading.Thread(
        target=lambda: answers.append(
            served.client.request("POST", "/v1/models/select", {"name": "new"})
        )
    )
    switch.start()
    time.sleep(0.2)  # give the switch a chance to jump the running job (it must not)
    assert served.client.request("GET", "/v1/health").status == 200  # still answering
    old.release.set()
    switch.join(30)
    assert answers[0].status == 200
    assert loaded_while_running == [False]
    assert served.client.wait(job_id)["state"] == "done"
    [(_, variant)] = served.client.result(job_id)
    request = GenerateRequest(sketch=sketch(9), count=1, steps=2)
    np.testing.assert_array_equal(variant, fake_image(request, 0, "old"))


def test_select_without_model_loader_is_a_400(served):
    answer = served.client.request("POST", "/v1/models/select", {"name": "x"})
    assert answer.status == 400
    assert served.client.request("GET", "/v1/models").json() == {"current": "default", "models": []}


def _body(image, **params):
    return {"sketch_png": base64.b64encode(encode_png(image)).decode(), **params}


def test_a_bug_behind_a_route_is_a_one_line_500_and_serving_goes_on(serve):
    def broken_listing():
        raise RuntimeError("disk on fire\nsecond line")

    served = serve(list_models=broken_listing)
    answer = served.client.request("GET", "/v1/models")
    assert answer.status == 500
    assert answer.json() == {"error": "internal error: RuntimeError"}  # no details leak out
    assert served.client.request("GET", "/v1/health").status == 200
