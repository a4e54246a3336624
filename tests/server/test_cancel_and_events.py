"""Cancel (queued and running), the Server-Sent Events stream, bounds and shutdown."""

from __future__ import annotations

import base64
import http.client
import time

from engine.images import encode_png
from engine.request import GenerateRequest
from engine.server.jobs import Generation, Job
from engine.server.work import QueueLimits, WorkQueue
from tests.fakes.fake_engine import FakeEngine, sketch
from tests.server.serving import job_limits


def test_cancel_a_queued_job_at_once(serve):
    served = serve(FakeEngine(hold=True))
    running = served.client.submit(sketch(1), count=1, steps=2)
    queued = served.client.submit(sketch(2), count=1, steps=2)
    assert served.engine.started.wait(10)
    answer = served.client.request("DELETE", f"/v1/jobs/{queued}")
    assert answer.status == 200
    assert answer.json()["state"] == "cancelled"
    assert answer.json()["cancel_requested"] is True
    assert served.client.request("GET", "/v1/health").json()["queue_length"] == 0
    served.engine.release.set()
    assert served.client.wait(running)["state"] == "done"
    assert list(served.client.events(queued)) == [("state", answer.json())]
    result = served.client.request("GET", f"/v1/jobs/{queued}/result")
    assert result.status == 409 and result.json()["error"] == "job is cancelled: cancelled"
    assert served.engine.seen == [0]  # the cancelled job never reached the engine


def test_cancel_a_running_job_within_a_step(serve):
    served = serve(FakeEngine(hold=True))
    job_id = served.client.submit(sketch(3), count=1, steps=50)
    assert served.engine.started.wait(10)
    answer = served.client.request("DELETE", f"/v1/jobs/{job_id}")
    assert answer.status == 200
    assert answer.json()["cancel_requested"] is True
    final = served.client.wait(job_id)  # the engine is still held: only cancel can end it
    assert final["state"] == "cancelled"
    assert final["step"] == 0
    # Cancelling again, or a finished job, changes nothing.
    again = served.client.request("DELETE", f"/v1/jobs/{job_id}")
    assert again.status == 200 and again.json()["state"] == "cancelled"
    served.engine.release.set()
    next_job = served.client.submit(sketch(4), count=1, steps=2)
    assert served.client.wait(next_job)["state"] == "done"


def test_event_stream_reports_start_every_step_and_the_end(served):
    job_id = served.client.submit(sketch(5), count=2, steps=5)
    connection = http.client.HTTPConnection("127.0.0.1", served.server.port, timeout=30)
    try:
        connection.request(
            "GET",
            f"/v1/jobs/{job_id}/events",
            headers={"Authorization": f"Bearer {served.client.token}"},
        )
        answer = connection.getresponse()
        assert answer.status == 200
        assert answer.getheader("Content-Type") == "text/event-stream"
        raw = answer.read().decode()  # ends because the server closes the stream
    finally:
        connection.close()
    blocks = [block for block in raw.split("\n\n") if block and not block.startswith(":")]
    assert blocks[0].startswith("event: state\ndata: ")
    assert '"state": "running"' in blocks[0]
    assert blocks[1:6] == [
        f'event: progress\ndata: {{"step": {step}, "total": 5}}' for step in range(1, 6)
    ]
    assert blocks[6].startswith("event: state\n") and '"state": "done"' in blocks[6]
    assert len(blocks) == 7


def test_event_stream_of_a_finished_job_replays_and_closes(served):
    job_id = served.client.submit(sketch(6), count=1, steps=3)
    first = list(served.client.events(job_id))
    second = list(served.client.events(job_id))
    assert first == second
    assert [name for name, _ in first] == ["state", "progress", "progress", "progress", "state"]
    assert first[-1][1]["state"] == "done"


def test_a_client_leaving_mid_stream_loses_nothing_for_others(serve):
    served = serve(FakeEngine(hold=True))
    job_id = served.client.submit(sketch(7), count=2, steps=3)
    assert served.engine.started.wait(10)
    stream = served.client.events(job_id)
    assert next(stream)[0] == "state"
    stream.close()  # closes the connection mid-job
    served.engine.release.set()
    assert served.client.wait(job_id)["state"] == "done"
    assert len(served.client.result(job_id)) == 2
    assert served.client.request("GET", "/v1/health").status == 200


def test_a_full_queue_answers_429(serve):
    served = serve(FakeEngine(hold=True), config=job_limits(waiting=2))
    served.client.submit(sketch(8), count=1, steps=1)
    assert served.engine.started.wait(10)
    served.client.submit(sketch(8), count=1, steps=1)
    served.client.submit(sketch(8), count=1, steps=1)
    payload = {"sketch_png": _png(sketch(8))}
    answer = served.client.request("POST", "/v1/jobs", payload)
    assert answer.status == 429
    assert "queue is full" in answer.json()["error"]
    assert answer.headers["Retry-After"] == "5"


def test_history_forgets_the_oldest_finished_jobs(serve):
    served = serve(config=job_limits(history=3))
    ids = [served.client.submit(sketch(9), count=1, steps=1, seed=seed) for seed in range(5)]
    # FIFO: once the last is done, all are.
    served.client.wait(ids[-1])
    statuses = [served.client.request("GET", f"/v1/jobs/{job_id}").status for job_id in ids]
    assert statuses == [404, 404, 200, 200, 200]


def test_close_cancels_queued_jobs_and_stops_the_running_one(serve):
    served = serve(FakeEngine(hold=True))
    running = served.server.jobs.submit(Job(_request(sketch(10))))
    queued = served.server.jobs.submit(Job(_request(sketch(11))))
    assert served.engine.started.wait(10)
    served.server.close()
    assert queued.state == "cancelled"
    assert "shutting down" in queued.error
    assert running.state == "cancelled"


def _request(image):
    return GenerateRequest(sketch=image, count=1, steps=3)


def _png(image):
    return base64.b64encode(encode_png(image)).decode()


def test_history_is_bounded_in_result_bytes_too():
    limits = QueueLimits(waiting=64, kept_bytes=1)  # every result is over the budget
    jobs = WorkQueue(Generation(FakeEngine()), limits)
    jobs.start()
    try:
        submitted = [jobs.submit(Job(_request(sketch(12)))) for _ in range(3)]
        deadline = time.monotonic() + 30
        while submitted[-1].state != "done" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert submitted[-1].state == "done"
        assert submitted[-1].result_bytes > 1
        # Only the job that just ended is kept, however large its result.
        assert [job.id for job in jobs.items()] == [submitted[-1].id]
    finally:
        jobs.close()
