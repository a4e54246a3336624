"""Live requests: a newer live job of a client supersedes its unfinished ones, no one else's;
a result says where its time went, so live latency can be broken down."""

from __future__ import annotations

import time

from engine.server.jobs import SUPERSEDED
from tests.fakes.fake_engine import FakeEngine, sketch

ARTIST = "artist-one-live-key"
OTHER_ARTIST = "artist-two-live-key"


def test_a_newer_live_job_drops_the_waiting_one(serve):
    served = serve(FakeEngine(hold=True))
    client = served.client
    # An ordinary job holds the engine (live keys never touch it), so the first live job stays
    # waiting until the newer one arrives, whatever the machine's speed.
    blocker = client.submit(sketch(1), count=1, steps=50, seed=1)
    assert served.engine.started.wait(10)
    waiting = client.submit(sketch(2), count=1, steps=2, seed=2, live=ARTIST)
    newest = client.submit(sketch(3), count=1, steps=2, seed=3, live=ARTIST)
    status = client.request("GET", f"/v1/jobs/{waiting}").json()
    assert (status["state"], status["error"]) == ("cancelled", SUPERSEDED)  # answered at once
    answer = client.request("GET", f"/v1/jobs/{waiting}/result")
    assert answer.status == 409 and answer.json()["error"] == f"job is cancelled: {SUPERSEDED}"
    served.engine.release.set()
    assert client.wait(blocker)["state"] == "done"
    assert client.wait(newest)["state"] == "done"
    assert served.engine.seen == [1, 3]  # the dropped sketch never reached the engine
    assert len(client.result(newest)) == 1


def test_a_newer_live_job_stops_the_running_one(serve):
    served = serve(FakeEngine(hold=True))
    client = served.client
    running = client.submit(sketch(1), count=1, steps=50, seed=1, live=ARTIST)
    assert served.engine.started.wait(10)
    newest = client.submit(sketch(3), count=1, steps=2, seed=3, live=ARTIST)
    # The running one ends at its next step although the engine is still held: only a cancel
    # can do that.
    assert client.wait(running)["error"] == SUPERSEDED
    served.engine.release.set()
    assert client.wait(newest)["state"] == "done"
    assert served.engine.seen == [1, 3]


def test_other_clients_and_ordinary_jobs_are_not_superseded(serve):
    served = serve(FakeEngine(hold=True))
    client = served.client
    ordinary = client.submit(sketch(1), count=1, steps=2)
    assert served.engine.started.wait(10)
    queued_ordinary = client.submit(sketch(2), count=1, steps=2, seed=20)
    other_live = client.submit(sketch(3), count=1, steps=2, seed=30, live=OTHER_ARTIST)
    mine = client.submit(sketch(4), count=1, steps=2, seed=40, live=ARTIST)
    mine_again = client.submit(sketch(5), count=1, steps=2, seed=50, live=ARTIST)
    served.engine.release.set()
    finals = {job: client.wait(job) for job in (ordinary, queued_ordinary, other_live, mine_again)}
    assert all(final["state"] == "done" for final in finals.values())
    assert client.wait(mine)["error"] == SUPERSEDED
    assert served.engine.seen == [0, 20, 30, 50]


def test_a_live_key_must_look_like_an_id(served):
    for key in ("short", "a" * 65, "spaces are not ids", 12345678):
        answer = served.client.request(
            "POST", "/v1/jobs", {"sketch_png": "iVBORw0KGgo=", "live": key}
        )
        assert answer.status == 400, key
        assert answer.json()["error"].startswith("live: ")


def test_a_result_tells_its_milliseconds_per_stage_in_server_timing(serve):
    served = serve(FakeEngine(hold=True))
    client = served.client
    first = client.submit(sketch(1), count=1, steps=2, live=ARTIST)
    assert served.engine.started.wait(10)
    time.sleep(0.3)  # the first job holds the engine: at least this long in it
    served.engine.release.set()
    assert client.wait(first)["state"] == "done"
    answer = client.request("GET", f"/v1/jobs/{first}/result")
    stages = dict(part.split(";dur=") for part in answer.headers["Server-Timing"].split(", "))
    assert list(stages) == ["queue", "prepare", "engine", "encode"]
    assert float(stages["engine"]) >= 300 and all(float(ms) >= 0 for ms in stages.values())
