"""The engine connection checks whom it talks to: a program that is not a Sketch Variants engine
gets no job, a stale address gets a fresh engine, a remote one never gets the local token."""

from __future__ import annotations

import json
import sys
import threading
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

FAKE_ENGINE_MAIN = Path(__file__).resolve().parent / "fake_engine_main.py"


class Impostor(ThreadingHTTPServer):
    """Another program on a loopback port: answers every request with a JSON object."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []  # method, path, Authorization header
        impostor = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                auth = self.headers.get("Authorization", "")
                impostor.seen.append((self.command, self.path, auth))
                body = json.dumps({"status": "ok", "id": "job-1"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_DELETE = _answer  # noqa: N815 - the stdlib's names

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


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


def test_a_stale_address_held_by_another_program_starts_a_fresh_engine(
    krita: fake_krita.Krita, impostor: Impostor
) -> None:
    command = f"{sys.executable} {FAKE_ENGINE_MAIN} --token-file {token_file()}"
    configure(krita, last_engine_url=impostor.url, engine_command=command, count=1, steps=2)
    controller = Controller(KritaHost())
    checked = Controller(KritaHost())  # a docker's check never starts anything
    checked.check_engine()
    wait_for(lambda: checked.state.status is EngineState.UNREACHABLE)
    assert "is not a Sketch Variants engine" in checked.state.message
    document, _ = sketch_document(krita)
    try:
        controller.generate_active()
        wait_for(lambda: not controller.state.busy and controller.state.step == 0)
        assert controller.state.message == "1 variants of 'eye sketch' added."
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
