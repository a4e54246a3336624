"""The engine connection checks whom it talks to: a program that is not a Sketch Variants engine
gets no job, a stale address gets a fresh engine, a remote one never gets the local token."""

from __future__ import annotations

import base64
import json
import struct
import sys
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import fake_krita
import pytest
from plugin_helpers import Served, configure, sketch_document, wait_for
from sketch_variants.adapter import KritaHost
from sketch_variants.controller import Controller
from sketch_variants.settings import token_file
from sketch_variants.values import EngineState

from tests.fakes import FAKE_SERVE

Answer = tuple[int, str, bytes]  # status, content type, body


def json_answer(data: object, status: int = 200) -> Answer:
    """A JSON answer."""
    return status, "application/json", json.dumps(data).encode()


class Impostor(ThreadingHTTPServer):
    """Another program on a loopback port: answers every request with a JSON object, or with
    what `answers` (method, path -> answer) says."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []  # method, path, Authorization header
        self.answers: dict[tuple[str, str], Answer] = {}
        self.redirects: dict[str, str] = {}  # path -> where a 307 sends the client
        impostor = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                auth = self.headers.get("Authorization", "")
                impostor.seen.append((self.command, self.path, auth))
                if self.path in impostor.redirects:
                    self.send_response(307)
                    self.send_header("Location", impostor.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                default = json_answer({"status": "ok", "id": "job-1"})
                status, kind, body = impostor.answers.get((self.command, self.path), default)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_DELETE = _answer  # noqa: N815 - the stdlib's names

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


def declared_png(width: int, height: int) -> bytes:
    """A PNG header declaring width x height (1-bit grey), with a token image body."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


@pytest.fixture
def impostor() -> Iterator[Impostor]:
    """An impostor serving on a thread until the test ends."""
    server = Impostor()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    thread.join()
    server.server_close()


def test_a_program_that_is_not_the_engine_gets_no_job(
    krita: fake_krita.Krita, impostor: Impostor
) -> None:
    configure(krita, server_url=impostor.url, token="studio-token")
    controller = Controller(KritaHost())
    document, _ = sketch_document(krita)
    controller.generate_active()
    wait_for(lambda: controller.state.status is EngineState.UNREACHABLE)
    assert controller.state.message.startswith(
        f"The program at {impostor.url} is not a Sketch Variants engine"
    )
    assert [(method, path) for method, path, _ in impostor.seen] == [("GET", "/v1/health")]
    assert not controller.state.busy and document.rootNode().childNodes()[-1].name() == "eye sketch"


def test_a_redirect_is_never_followed_so_the_token_stays_where_the_artist_sent_it(
    krita: fake_krita.Krita, impostor: Impostor
) -> None:
    # Qt 6 follows redirects by default, Qt 5 does not: the plugin asks both not to.
    impostor.redirects["/v1/health"] = "/elsewhere/v1/health"
    impostor.answers["GET", "/elsewhere/v1/health"] = json_answer(
        {"service": "sketch-variants", "version": "0.1.0"}
    )
    configure(krita, server_url=impostor.url, token="studio-token")
    controller = Controller(KritaHost())
    controller.check_engine()
    wait_for(lambda: controller.state.status is EngineState.UNREACHABLE)
    assert [path for _, path, _ in impostor.seen] == ["/v1/health"]
    assert "(HTTP 307)" in controller.state.reason


def test_a_stale_address_held_by_another_program_starts_a_fresh_engine(
    krita: fake_krita.Krita, impostor: Impostor
) -> None:
    command = f"{sys.executable} {FAKE_SERVE} --token-file {token_file()}"
    configure(krita, last_engine_url=impostor.url, engine_command=command, count=1, steps=2)
    controller = Controller(KritaHost())
    checked = Controller(KritaHost())  # a docker's check never starts anything
    checked.check_engine()
    wait_for(lambda: checked.state.status is EngineState.UNREACHABLE)
    assert checked.state.message == (
        "Engine not running: click Start, or run `make install` "
        f"(not a Sketch Variants engine at {impostor.url})."
    )
    document, _ = sketch_document(krita)
    try:
        controller.generate_active()
        wait_for(lambda: not controller.state.busy and controller.state.step == 0)
        assert controller.state.message == "1 variant of 'eye sketch' added."
        assert controller.client.url != impostor.url
        assert krita.readSetting("sketch_variants", "last_engine_url", "") == controller.client.url
        assert all(path == "/v1/health" for _, path, _ in impostor.seen)
    finally:
        controller.shutdown()
        wait_for(lambda: not controller.process.stopping)


def test_a_remote_engine_without_its_own_token_is_never_contacted(
    krita: fake_krita.Krita, isolated_home: Path
) -> None:
    token_file().parent.mkdir(parents=True)
    token_file().write_text("local-secret")
    configure(krita, server_url="http://192.0.2.1:9")  # no token entered for it
    controller = Controller(KritaHost())
    controller.check_engine()
    assert controller.state.status is EngineState.UNREACHABLE  # decided without the network
    assert controller.state.message.startswith(
        "The engine at http://192.0.2.1:9 needs its own token"
    )
    assert controller.client.url == "" and controller.client.token == ""


def test_the_real_server_says_it_is_a_sketch_variants_engine(
    krita: fake_krita.Krita, served: Served
) -> None:
    configure(krita, server_url=served.url, token=served.token)
    controller = Controller(KritaHost())
    controller.check_engine()
    wait_for(lambda: controller.state.status is EngineState.CONNECTED)
    assert controller.state.reason == served.url


def test_an_engine_sending_images_larger_than_the_layer_gets_them_refused_undecoded(
    krita: fake_krita.Krita, impostor: Impostor
) -> None:
    """A hostile engine that passes the identity check still cannot make Krita allocate a
    30000 x 30000 image: the PNG's declared size is checked before decoding."""
    huge = base64.b64encode(declared_png(30000, 30000)).decode()
    impostor.answers = {
        ("GET", "/v1/health"): json_answer({"service": "sketch-variants", "version": "6.6.6"}),
        ("POST", "/v1/jobs"): json_answer({"id": "j1", "state": "queued"}, status=202),
        ("GET", "/v1/jobs/j1/events"): (
            200,
            "text/event-stream",
            b'event: state\ndata: {"state": "done"}\n\n',
        ),
        ("GET", "/v1/jobs/j1/result"): json_answer({"variants": [{"seed": 1, "png": huge}]}),
    }
    configure(krita, server_url=impostor.url, token="studio-token")
    controller = Controller(KritaHost())
    document, _ = sketch_document(krita, box=(8, 6, 10, 7))
    controller.generate_active()
    wait_for(lambda: ("GET", "/v1/jobs/j1/result") in [(m, p) for m, p, _ in impostor.seen])
    wait_for(lambda: not controller.state.busy)
    assert controller.state.message.startswith(
        "The engine's images were refused: it sent a 30000 x 30000 image for a 10 x 7 layer"
    )
    assert [node.name() for node in document.rootNode().childNodes()] == ["eye sketch"]
    assert controller.state.thumbnails == ()
