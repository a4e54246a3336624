"""The studio's engine on a real two-node Ray cluster: the plugin's own client, concurrent
artists, their own models, cancel, trainings on the nodes, a replica killed mid-job, and the
gateway's answers."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from engine.data.procedural import TRAIN_SEED, make_eyes
from engine.images import decode_image, encode_png
from engine.request import GenerateRequest
from engine.server.client import Client
from tests.conftest import draw_circle_sketch
from tests.studio.artists import Artist, JobRequest, run_artists
from tests.studio.conftest import ARTISTS_MODELS, MODEL, cluster_pids, replica_pids

# A batched forward pass may round differently from a single one: never by a visible step.
TOLERANCE = 2


def _sketch(artist: int, job: int) -> np.ndarray:
    """A different ring for every job, so a result sent to the wrong job shows."""
    return draw_circle_sketch(64 + 8 * artist, 56 + 4 * job, 12 + job)


def _job(
    sketch: np.ndarray, seed: int, steps: int = 4, count: int = 2, model: str = ""
) -> JobRequest:
    return JobRequest(
        sketch_png=encode_png(sketch),
        mode="mask",
        count=count,
        radius=4,
        seed=seed,
        steps=steps,
        model=model,
    )


def _assert_same_variants(got, engine, sketch, seed, steps, count) -> None:
    """The variants the studio sent are those the single-process engine makes of that request."""
    expected = engine.generate(
        GenerateRequest(sketch=sketch, seed=seed, steps=steps, count=count)
    ).variants
    assert [variant.seed for variant in got] == [variant.seed for variant in expected]
    for variant, alone in zip(got, expected, strict=True):
        image = decode_image(variant.png)
        assert image.shape == sketch.shape
        difference = np.abs(image.astype(int) - alone.image.astype(int)).max()
        assert difference <= TOLERANCE, (variant.seed, difference)


def test_four_artists_ten_jobs_each_at_once_through_the_plugin_client(studio, engines):
    artists = [
        Artist(
            studio.url,
            studio.token,
            [_job(_sketch(a, j), seed=1000 * a + 10 * j) for j in range(10)],
        )
        for a in range(4)
    ]
    run_artists(artists)
    for a, artist in enumerate(artists):
        for j, seen in enumerate(artist.seen):
            assert (seen.failure, seen.state, seen.error) == ("", "done", ""), (a, j)
            # Progress events came in order, up to the job's last step.
            assert [step for step, _ in seen.progress] == sorted(step for step, _ in seen.progress)
            assert seen.progress[-1] == (4, 4)
            _assert_same_variants(
                seen.variants, engines[MODEL], _sketch(a, j), 1000 * a + 10 * j, 4, 2
            )
    # Every job is in the gateway's history under its own id: none lost, none twice.
    ids = {seen.job_id for artist in artists for seen in artist.seen}
    assert len(ids) == 40
    # And the replicas did answer concurrent jobs together, in shared forward passes.
    sizes = [int(size) for size in re.findall(r"a batch of (\d+) requests", _replica_logs(studio))]
    assert sum(sizes) >= 40 and max(sizes) > 1, sizes


def test_cancel_through_the_plugin_client_and_the_next_job_runs(studio, engines):
    long = _job(_sketch(0, 0), seed=5, steps=64, count=16)  # the longest job there is
    artist = Artist(studio.url, studio.token, [long, _job(_sketch(1, 1), seed=6)], {0: 2})
    run_artists([artist])
    cancelled, after = artist.seen
    assert (cancelled.state, cancelled.error) == ("cancelled", "cancelled")
    assert cancelled.progress[-1][0] < 64  # it stopped before its last step
    assert after.state == "done"
    _assert_same_variants(after.variants, engines[MODEL], _sketch(1, 1), 6, 4, 2)
    # The replica stopped the cancelled job's rows too, rather than running its 64 steps on.
    deadline = time.monotonic() + 60
    while "cancelled: its rows stopped" not in _replica_logs(studio):
        assert time.monotonic() < deadline, "no replica stopped the cancelled job"
        time.sleep(0.5)


def test_two_artists_each_get_their_own_taught_model(studio, engines):
    sketch = _sketch(2, 3)
    artists = [
        Artist(studio.url, studio.token, [_job(sketch, seed=77, model=name) for _ in range(3)])
        for name in ARTISTS_MODELS
    ]
    run_artists(artists)
    images = {}
    for name, artist in zip(ARTISTS_MODELS, artists, strict=True):
        for seen in artist.seen:
            assert seen.state == "done", (name, seen)
            _assert_same_variants(seen.variants, engines[name], sketch, 77, 4, 2)
        images[name] = decode_image(artist.seen[0].variants[0].png)
    # Same sketch, same seed, different models: different variants.
    alice, bob = images.values()
    assert np.abs(alice.astype(int) - bob.astype(int)).max() > 10 * TOLERANCE


BAD_JOBS = [
    b"{",
    b"[]",
    b"{}",
    b'{"sketch_png": "not base64!"}',
    b'{"sketch_png": "aGVsbG8=", "count": 2}',
]


def _bad_requests(sketch_b64: str) -> list[tuple[str, str, bytes | None]]:
    return [
        *[("POST", "/v1/jobs", body) for body in BAD_JOBS],
        ("POST", "/v1/jobs", f'{{"sketch_png": "{sketch_b64}", "count": 0}}'.encode()),
        ("POST", "/v1/jobs", f'{{"sketch_png": "{sketch_b64}", "mode": "paint"}}'.encode()),
        ("POST", "/v1/jobs", f'{{"sketch_png": "{sketch_b64}", "model": "carol"}}'.encode()),
        ("GET", "/v1/jobs/0123456789abcdef0123456789abcdef", None),
        ("GET", "/v1/jobs/0123456789abcdef0123456789abcdef/result", None),
        ("POST", "/v1/models/select", b'{"name": "carol"}'),
        ("GET", "/nowhere", None),
        # Trainings the gateway refuses before anything reaches a node, as a single engine does.
        ("POST", "/v1/trainings", b"{}"),
        ("POST", "/v1/trainings", json.dumps(_training("../evil")).encode()),
        ("POST", "/v1/trainings", json.dumps(_training("few", drawings=7)).encode()),
        ("POST", "/v1/trainings", json.dumps(_training(MODEL)).encode()),  # a model's name
        ("GET", "/v1/trainings/0123456789abcdef0123456789abcdef", None),
        ("DELETE", "/v1/trainings/0123456789abcdef0123456789abcdef", None),
    ]


def test_bad_input_a_missing_token_and_a_wrong_host_answer_as_the_single_process_engine(
    studio, single_process
):
    import base64

    sketch_b64 = base64.b64encode(encode_png(_sketch(0, 1))).decode()
    gateway = studio.client()
    for method, path, body in _bad_requests(sketch_b64):
        ours, theirs = (
            gateway.request(method, path, body),
            single_process.request(method, path, body),
        )
        assert (ours.status, ours.body) == (theirs.status, theirs.body), (method, path, body)
        assert 400 <= ours.status < 500
    for token in (None, "wrong"):
        ours = Client(studio.url, token).request("GET", "/v1/health")
        theirs = Client(f"http://127.0.0.1:{single_process.port}", token)
        theirs = theirs.request("GET", "/v1/health")
        assert (ours.status, ours.body) == (theirs.status, theirs.body) and ours.status == 401
    ours = gateway.request("GET", "/v1/health", headers={"Host": "evil.example"})
    theirs = single_process.request("GET", "/v1/health", headers={"Host": "evil.example"})
    assert (ours.status, ours.body) == (theirs.status, theirs.body) and ours.status >= 400
    assert (
        gateway.request("GET", "/v1/models").json()
        == single_process.request("GET", "/v1/models").json()
    )


def _training(name: str, drawings: int = 8, steps: int = 3) -> dict:
    """A training's request on finished drawings (procedural eyes, 48 px, base64 PNG)."""
    import base64

    eyes, _ = make_eyes(drawings, TRAIN_SEED, 48)
    alpha = np.full((48, 48, 1), 255, np.uint8)
    pngs = [base64.b64encode(encode_png(np.concatenate([d, alpha], -1))).decode() for d in eyes]
    return {"name": name, "drawings": pngs, "steps": steps}


def _train(client: Client, name: str, steps: int) -> str:
    answer = client.request("POST", "/v1/trainings", _training(name, steps=steps))
    assert answer.status == 202, answer.body
    return answer.json()["id"]


def test_a_training_runs_on_a_cluster_node_and_its_model_serves_jobs_at_once(studio):
    from engine.pipeline import Engine

    client = studio.client()
    training_id = _train(client, "dora", steps=3)
    events = list(client.events(training_id, kind="trainings"))
    states = [data["state"] for name, data in events if name == "state"]
    assert states[0] == "queued" and "running" in states and states[-1] == "done", events[-1]
    progress = [(data["stage"], data["step"]) for name, data in events if name == "progress"]
    assert progress == [("diffusion", 1), ("diffusion", 2), ("diffusion", 3)]
    previews = [data for name, data in events if name == "preview"]
    assert previews and len(previews[-1]["images"]) == 4  # the end of stage 1's, from the node
    assert events[-1][1]["model"] == "dora"
    # It trained in a Ray worker process on a node (Ray names its log after its pid), not in
    # the gateway's.
    found = _training_log_lines(studio)
    pids = [int(pid) for out, _, pid in found if training_id in out]
    assert len(pids) == 1 and pids[0] != studio.gateway_pid, found
    assert list(studio.cluster.logs.glob(f"worker-*-{pids[0]}.err"))
    # Jobs naming the new model at once get its variants: those of the single-process engine
    # loading it from the same folder, same seeds.
    alone = Engine.load(studio.store.resolve("dora"))
    seeds = (7, 8)
    sketch = _sketch(1, 2)
    jobs = {s: client.submit(sketch, seed=s, steps=4, count=2, model="dora") for s in seeds}
    for seed, job_id in jobs.items():
        assert client.wait(job_id)["state"] == "done"
        expected = alone.generate(GenerateRequest(sketch=sketch, seed=seed, steps=4, count=2))
        served = client.result(job_id)
        for (got_seed, image), variant in zip(served, expected.variants, strict=True):
            assert got_seed == variant.seed
            assert np.abs(image.astype(int) - variant.image.astype(int)).max() <= TOLERANCE


def test_a_cluster_training_cancels_with_its_checkpoint_and_fails_in_one_line_if_its_node_dies(
    studio,
):
    client = studio.client()
    training_id = _train(client, "erin", steps=2000)
    stream = client.events(training_id, kind="trainings")
    next(data for name, data in stream if name == "progress")
    [pid] = cluster_pids(studio.cluster, b"NodeTraining")  # its actor, on one of the nodes
    assert client.request("DELETE", f"/v1/trainings/{training_id}").status == 200
    final = [data for name, data in stream if name == "state"][-1]
    assert final["state"] == "cancelled" and final["resumable"] and 0 < final["step"] < 2000
    # The node's stage wrote its checkpoint where it stopped, in the shared data folder.
    checkpoint = studio.store.training_dir(training_id) / "model" / "checkpoint" / "state.json"
    assert checkpoint.is_file()
    deadline = time.monotonic() + 30
    while pid in cluster_pids(studio.cluster, b"NodeTraining"):  # the actor goes with its core
        assert time.monotonic() < deadline, "the cancelled training's actor stayed"
        time.sleep(0.2)

    resumed = client.request("POST", f"/v1/trainings/{training_id}/resume")
    assert resumed.status == 202
    stream = client.events(resumed.json()["id"], kind="trainings")
    first = next(data for name, data in stream if name == "progress")
    assert first["step"] > 1  # it went on from the node's checkpoint
    [pid] = cluster_pids(studio.cluster, b"NodeTraining")
    os.kill(pid, signal.SIGKILL)  # as when its node goes away
    final = [data for name, data in stream if name == "state"][-1]
    assert final["state"] == "failed" and "\n" not in final["error"], final
    assert final["error"].startswith("the studio lost the node running this training"), final


def _training_log_lines(studio) -> list[tuple[str, str, str]]:
    """(model folder, node, pid) of every training the cluster's nodes ran."""
    text = "".join(
        path.read_text(errors="replace") for path in studio.cluster.logs.glob("worker-*.err")
    )
    return re.findall(r"training into (\S+) on node (\w+), process (\d+)", text)


def test_killing_a_replica_mid_job_its_jobs_end_and_the_next_ones_succeed(studio, engines):
    # Last in the module: it takes a replica away (Serve starts a new one in its place).
    client = studio.client()
    sketch = _sketch(3, 2)
    jobs = [client.submit(sketch, seed=300 + i, steps=64, count=8) for i in range(4)]
    finals: dict[str, dict] = {}

    def follow(job_id: str) -> None:
        finals[job_id] = client.wait(job_id)

    followers = [threading.Thread(target=follow, args=(job_id,)) for job_id in jobs]
    for follower in followers:
        follower.start()
    deadline = time.monotonic() + 120
    while not any(
        client.request("GET", f"/v1/jobs/{job_id}").json()["step"] > 0 for job_id in jobs
    ):
        assert time.monotonic() < deadline, "no job started on the replicas"
        time.sleep(0.05)
    pids = replica_pids(studio.cluster)
    assert len(pids) == 2, pids
    os.kill(_busiest(pids), signal.SIGKILL)  # the one running jobs, not the idle one
    for follower in followers:
        follower.join(300)
        assert not follower.is_alive(), "a job of the killed replica never ended"
    for job_id in jobs:
        final = finals[job_id]
        assert final["state"] in ("done", "failed"), final
        if final["state"] == "failed":
            assert "\n" not in final["error"] and "replica" in final["error"], final
    assert any(final["state"] == "done" for final in finals.values())
    # A job whose replica dies under it reaches the gateway as lost, which retries it on the other
    # one and logs it. In two of four full runs the gateway saw no loss (the killed replica held
    # no request Serve had handed it yet): then every job must have ended done, none lost.
    retried = "lost its replica" in studio.gateway_log()
    assert retried or all(final["state"] == "done" for final in finals.values()), finals
    for i in range(3):
        job_id = client.submit(sketch, seed=400 + i, steps=4, count=2)
        assert client.wait(job_id)["state"] == "done"
        served = client.result(job_id)
        expected = (
            engines[MODEL]
            .generate(GenerateRequest(sketch=sketch, seed=400 + i, steps=4, count=2))
            .variants
        )
        for (seed, image), alone in zip(served, expected, strict=True):
            assert seed == alone.seed
            assert np.abs(image.astype(int) - alone.image.astype(int)).max() <= TOLERANCE


def _replica_logs(studio) -> str:
    """What the cluster's model replicas have logged so far (Serve keeps one log a replica)."""
    logs = sorted((studio.cluster.logs / "serve").glob("replica_*.log"))
    return "".join(log.read_text(errors="replace") for log in logs)


def _busiest(pids: list[int]) -> int:
    """The process that used the most CPU time over the next half second."""

    def cpu_ticks() -> dict[int, int]:
        stats = {pid: Path(f"/proc/{pid}/stat").read_text() for pid in pids}
        fields = {pid: stat.rsplit(")", 1)[1].split() for pid, stat in stats.items()}
        return {pid: int(f[11]) + int(f[12]) for pid, f in fields.items()}  # utime + stime

    # A replica whose batch is still in Serve's queue or tracing its graph may look idle for a
    # moment, and killing the idle one tests nothing: wait until one clearly computes (a fifth
    # of a core or more: 10 of the kernel's 100 ticks a second over half a second).
    deadline = time.monotonic() + 30
    while True:
        before = cpu_ticks()
        time.sleep(0.5)
        after = cpu_ticks()
        used = {pid: after[pid] - before[pid] for pid in pids}
        busiest = max(pids, key=lambda pid: used[pid])
        if used[busiest] >= 10 or time.monotonic() > deadline:
            return busiest


@pytest.fixture(autouse=True)
def _both_replicas_up(studio):
    """Each test starts with both replicas up."""
    deadline = time.monotonic() + 180
    while len(replica_pids(studio.cluster)) < 2:
        assert time.monotonic() < deadline, "the studio's replicas did not come back"
        time.sleep(0.5)
