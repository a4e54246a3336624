"""What a hostile client on loopback tried, each against a real server: framing tricks, idle
connections by the hundred, and a SIGTERM while event streams are open."""

from __future__ import annotations

import http.client
import json
import select
import signal
import socket
import time

import pytest

from engine.server.client import Client
from engine.server.config import ServerConfig
from tests.fakes.fake_engine import sketch
from tests.server.processes import fake_serve

IDLE_CONNECTIONS = 400
OPEN_FILES = 256  # the server's descriptor limit in the idle-connection test


def _exchange(port: int, raw: bytes) -> bytes:
    """Send raw bytes and read everything until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(raw)
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    return reply


def _statuses(reply: bytes) -> list[int]:
    return [int(line.split(b" ")[1]) for line in reply.split(b"\r\n") if line.startswith(b"HTTP/1")]


@pytest.mark.parametrize(
    ("refused", "status"),
    [
        (b"Authorization: Bearer wrong\r\nContent-Length: {length}\r\n", 401),
        (b"Authorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\n", 411),
    ],
    ids=["401", "411"],
)
def test_a_refused_request_closes_its_connection_and_its_body_is_never_run(serve, refused, status):
    served = serve()
    port, token = served.server.port, served.client.token
    # The body is a whole second, authorised request: answered, it would show as a second status.
    hidden = b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n\r\n"
    hidden %= (port, token.encode())
    if status == 411:  # well-formed chunks, so only the server's refusal can stop it
        hidden = b"%x\r\n%s\r\n0\r\n\r\n" % (len(hidden), hidden)
    headers = refused.replace(b"{token}", token.encode())
    headers = headers.replace(b"{length}", str(len(hidden)).encode())
    raw = b"POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % port + headers + b"\r\n" + hidden
    reply = _exchange(port, raw)  # returns only once the server has closed the connection
    assert _statuses(reply) == [status]
    assert b"Connection: close" in reply


@pytest.mark.parametrize(
    "headers",
    [
        b"Content-Length: 2\r\nContent-Length: 18\r\n",
        b"Content-Length: 1_8\r\n",
        b"Content-Length: +2\r\n",
        b"Host: evil.example\r\n",  # a second Host header, after the right one
    ],
    ids=["two lengths", "underscore", "plus sign", "two hosts"],
)
def test_ambiguous_framing_is_a_400_that_closes(served, headers):
    port, token = served.server.port, served.client.token
    raw = (
        b"POST /v1/models/select HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
        % (port, token.encode())
        + headers
        + b"\r\n{}"
    )
    reply = _exchange(port, raw)
    assert _statuses(reply) == [400]
    assert served.client.request("GET", "/v1/health").status == 200


def test_an_identical_repeated_length_is_one_length(served):
    # RFC 9110 allows a repeated identical Content-Length; it frames the body the same way.
    port, token = served.server.port, served.client.token
    raw = (
        b"POST /v1/models/select HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
        b"Content-Length: 2\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
        % (port, token.encode())
    )
    assert _statuses(_exchange(port, raw)) == [400]  # {} names no model: the body was read


@pytest.mark.parametrize(
    "sent", [b"", b"GET /v1/health HTTP/1.1\r\nHo"], ids=["silent", "headers dribbling"]
)
def test_a_connection_without_a_whole_request_is_closed(serve, sent):
    served = serve(config=ServerConfig(header_timeout=0.5))
    with socket.create_connection(("127.0.0.1", served.server.port), timeout=30) as connection:
        connection.sendall(sent)
        assert connection.recv(65536) == b""  # closed by the server, without an answer
    assert served.client.request("GET", "/v1/health").status == 200


def test_a_full_server_closes_its_longest_idle_connection_for_a_new_one(serve):
    served = serve(config=ServerConfig(max_connections=8))
    port = served.server.port
    idle = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(8)]
    try:
        assert served.client.request("GET", "/v1/health").status == 200
        assert idle[0].recv(1) == b""  # the oldest silent one made room
        idle[1].sendall(_health_request(port, served.client.token))
        assert idle[1].recv(65536).startswith(b"HTTP/1.1 200")  # the others still serve
    finally:
        for connection in idle:
            connection.close()


def _health_request(port: int, token: str) -> bytes:
    return b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n\r\n" % (
        port,
        token.encode(),
    )


def test_hundreds_of_idle_connections_do_not_starve_health(tmp_path):
    cap = OPEN_FILES // 2  # what connection_cap() allows under the lowered limit
    with fake_serve(tmp_path, "--open-files", str(OPEN_FILES)) as (_, client):
        idle = [
            socket.create_connection((client.host, client.port), timeout=10)
            for _ in range(IDLE_CONNECTIONS)
        ]
        try:
            # Bounded liveness: health answers within 2 s although 400 sockets sit silent.
            quick = Client(f"http://{client.host}:{client.port}", client.token, timeout=2.0)
            answer = quick.request("GET", "/v1/health")
            assert answer.status == 200
            assert answer.json()["service"] == "sketch-variants"
            closed = _closed_by_server(idle, at_least=IDLE_CONNECTIONS - cap)
            assert closed >= IDLE_CONNECTIONS - cap  # the server held at most `cap` of them
            assert closed < IDLE_CONNECTIONS  # ... and closed only what it had to
        finally:
            for connection in idle:
                connection.close()


def _closed_by_server(sockets: list[socket.socket], at_least: int) -> int:
    """How many of the sockets the server has closed; waits up to 10 s for `at_least`."""
    closed: set[int] = set()
    deadline = time.monotonic() + 10
    while len(closed) < at_least and time.monotonic() < deadline:
        open_ones = [s for s in sockets if s.fileno() not in closed]
        readable, _, _ = select.select(open_ones, [], [], 0.2)
        for connection in readable:
            if connection.recv(1) == b"":
                closed.add(connection.fileno())
    return len(closed)


def test_sigterm_ends_every_open_event_stream_with_a_final_state(tmp_path):
    with fake_serve(tmp_path, "--hold") as (process, client):
        running = client.submit(sketch(1), count=1, steps=3)
        queued = client.submit(sketch(2), count=1, steps=3)
        streams = {job_id: _open_stream(client, job_id) for job_id in (running, queued)}
        process.send_signal(signal.SIGTERM)
        events = {job_id: _read_events(stream) for job_id, stream in streams.items()}
        assert process.wait(60) == 0
    assert [name for name, _ in events[running]] == ["state", "state"]
    assert events[running][0][1]["state"] == "running"
    assert [name for name, _ in events[queued]] == ["state"]  # it never ran
    for job_id in (running, queued):
        final = events[job_id][-1][1]
        assert final["id"] == job_id
        assert final["state"] == "cancelled"


Stream = tuple[http.client.HTTPConnection, http.client.HTTPResponse]


def _open_stream(client: Client, job_id: str) -> Stream:
    """A job's event stream, open: returns once the server has sent the headers."""
    connection = http.client.HTTPConnection(client.host, client.port, timeout=30)
    headers = {"Authorization": f"Bearer {client.token}"}
    connection.request("GET", f"/v1/jobs/{job_id}/events", headers=headers)
    answer = connection.getresponse()
    assert answer.status == 200
    return connection, answer


def _read_events(stream: Stream) -> list[tuple[str, dict]]:
    """Every event of an open stream until the server ends it."""
    connection, answer = stream
    blocks = answer.read().decode().split("\n\n")
    connection.close()
    events = []
    for block in blocks:
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            events.append((lines["event"], json.loads(lines["data"])))
    return events
