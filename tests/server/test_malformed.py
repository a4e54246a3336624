"""Bad input of every kind gets a one-line 4xx and the server keeps answering; fuzzed too."""

from __future__ import annotations

import base64
import io
import json
import socket

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from engine.images import encode_png
from engine.server.payload import JOB_FIELDS
from tests.fakes.fake_engine import sketch
from tests.server.serving import make_server

PNG = base64.b64encode(encode_png(sketch(1, 6, 6))).decode()


def _big_png() -> str:
    buffer = io.BytesIO()
    Image.new("L", (8193, 1)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


BAD_JOBS = {
    "empty body": b"",
    "not json": b"{nope",
    "truncated json": b'{"sketch_png": "',
    "json array": b"[1, 2]",
    "json string": b'"sketch"',
    "not utf-8": b"\xff\xfe\xfa",
    "deeply nested": b"[" * 100_000 + b"]" * 100_000,
    "missing sketch": {"count": 2},
    "sketch not a string": {"sketch_png": 12},
    "sketch empty string": {"sketch_png": ""},
    "sketch not base64": {"sketch_png": "***"},
    "sketch not png": {"sketch_png": base64.b64encode(b"GIF89a nonsense").decode()},
    "sketch too large": {"sketch_png": _big_png()},
    "unknown field": {"sketch_png": PNG, "seeds": [1]},
    "mode unknown": {"sketch_png": PNG, "mode": "dream"},
    "mode a list": {"sketch_png": PNG, "mode": ["mask"]},
    "count zero": {"sketch_png": PNG, "count": 0},
    "count too many": {"sketch_png": PNG, "count": 17},
    "count a string": {"sketch_png": PNG, "count": "8"},
    "count a float": {"sketch_png": PNG, "count": 2.5},
    "count true": {"sketch_png": PNG, "count": True},
    "radius zero": {"sketch_png": PNG, "radius": 0},
    "steps too many": {"sketch_png": PNG, "steps": 65},
    "seed negative": {"sketch_png": PNG, "seed": -1},
    "seed huge": {"sketch_png": PNG, "seed": 10**40},
    "strength zero": {"sketch_png": PNG, "strength": 0},
    "strength above one": {"sketch_png": PNG, "strength": 1.5},
    "strength nan": b'{"sketch_png": "%s", "strength": NaN}' % PNG.encode(),
    "strength a string": {"sketch_png": PNG, "strength": "high"},
}


@pytest.fixture(scope="module")
def shared():
    """One server for the module's many small requests."""
    served = make_server()
    yield served
    served.server.close()


@pytest.mark.parametrize("body", BAD_JOBS.values(), ids=BAD_JOBS.keys())
def test_bad_job_bodies_are_400_with_one_line(shared, body):
    answer = shared.client.request("POST", "/v1/jobs", body)
    assert answer.status == 400, answer.body[:200]
    message = answer.json()["error"]
    assert message and "\n" not in message and len(message) <= 300
    assert shared.client.request("GET", "/v1/health").status == 200


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/jobs/0123456789abcdef0123456789abcdef", 404),
        ("GET", "/v1/jobs/not-an-id/result", 404),
        ("GET", "/v1/jobs/%00%ff/events", 404),
        ("DELETE", "/v1/jobs/0123456789abcdef0123456789abcdef", 404),
        ("GET", "/v1/jobs//result", 404),
        ("GET", "/v2/health", 404),
        ("GET", "/", 404),
        ("DELETE", "/v1/health", 405),
        ("PUT", "/v1/jobs", 405),
        ("PATCH", "/openapi.json", 405),
        ("POST", "/v1/jobs/0123456789abcdef0123456789abcdef/result", 405),
        ("POST", "/v1/models/select", 400),
    ],
)
def test_unknown_ids_paths_and_methods_are_4xx(shared, method, path, status):
    answer = shared.client.request(method, path)
    assert answer.status == status
    assert "error" in answer.json()
    assert shared.client.request("GET", "/v1/health").status == 200


@pytest.mark.parametrize(
    "header",
    [
        b"Content-Length: lots\r\n",
        b"Content-Length: -5\r\n",
        b"Transfer-Encoding: chunked\r\n",
        b"Content-Length: 50\r\n",  # then the body stops short
    ],
)
def test_broken_framing_is_4xx(shared, header):
    port, token = shared.server.port, shared.client.token
    request = (
        b"POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
        % (port, token.encode())
        + header
        + b"Connection: close\r\n\r\n{}"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        connection.shutdown(socket.SHUT_WR)  # the short body ends here
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    status = int(reply.split(b" ", 2)[1])
    assert 400 <= status < 500
    assert shared.client.request("GET", "/v1/health").status == 200


def test_garbage_request_line_is_4xx(shared):
    with socket.create_connection(("127.0.0.1", shared.server.port), timeout=10) as connection:
        connection.sendall(b"\x00\x01 garbage\r\n\r\n")
        reply = connection.recv(65536)
    assert reply.startswith(b"HTTP/1.") and b" 400 " in reply.split(b"\r\n")[0]
    assert shared.client.request("GET", "/v1/health").status == 200


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
FIELD_VALUES = st.one_of(
    JSON, st.just(PNG), st.sampled_from(["mask", "sdedit", "noise"]), st.integers(-5, 70)
)
JOB_LIKE = st.dictionaries(st.sampled_from(JOB_FIELDS), FIELD_VALUES, max_size=len(JOB_FIELDS))

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(body=JSON)
def test_any_json_body_never_gets_a_5xx(shared, body):
    answer = shared.client.request("POST", "/v1/jobs", json.dumps(body).encode())
    assert answer.status < 500, answer.body[:200]


@FUZZ
@given(body=JOB_LIKE)
def test_job_like_bodies_are_202_or_a_4xx(shared, body):
    answer = shared.client.request("POST", "/v1/jobs", json.dumps(body).encode())
    assert answer.status in (202, 400, 429), answer.body[:200]
    if answer.status == 202:
        _cancel(shared, answer.json()["id"])  # keeps the queue short


@FUZZ
@given(raw=st.binary(max_size=200))
def test_any_bytes_body_never_gets_a_5xx(shared, raw):
    answer = shared.client.request("POST", "/v1/jobs", raw)
    assert answer.status < 500


@FUZZ
@given(name=JSON)
def test_any_model_select_body_never_gets_a_5xx(shared, name):
    answer = shared.client.request("POST", "/v1/models/select", json.dumps({"name": name}).encode())
    assert answer.status == 400


def test_server_still_serves_a_real_job_after_the_fuzzing(shared):
    image = sketch(2, 5, 7)
    job_id = shared.client.submit(image, count=1, steps=1)
    assert shared.client.wait(job_id)["state"] == "done"
    [(_, variant)] = shared.client.result(job_id)
    assert variant.shape == image.shape and variant.dtype == np.uint8


def _cancel(shared, job_id):
    shared.client.request("DELETE", f"/v1/jobs/{job_id}")


@pytest.mark.parametrize("line", [b"FROB /v1/health HTTP/1.1", b"GET /v1/health HTTP/9.9"])
def test_unknown_methods_and_versions_are_4xx(shared, line):
    with socket.create_connection(("127.0.0.1", shared.server.port), timeout=10) as connection:
        connection.sendall(line + b"\r\nHost: x\r\n\r\n")
        reply = connection.recv(65536)
    status = int(reply.split(b" ", 2)[1])
    assert 400 <= status < 500
