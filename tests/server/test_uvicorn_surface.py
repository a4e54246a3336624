"""What engine.server.connections uses of uvicorn's private H11Protocol is still there.

uvicorn is pinned to the minor release these tests passed with (pyproject.toml); a newer one is
taken only once this file passes with it, so a renamed method or attribute fails here, by name,
rather than as a connection cap that silently stopped working.
"""

from __future__ import annotations

import inspect
import socket
import time
import tomllib
from pathlib import Path

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from engine.server.connections import CappedH11Protocol

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
# The methods CappedH11Protocol overrides or calls, with their parameters.
METHODS = {
    "connection_made": ["self", "transport"],
    "data_received": ["self", "data"],
    "on_response_complete": ["self"],
    "eof_received": ["self"],
    "send_400_response": ["self", "msg"],
    "connection_lost": ["self", "exc"],
    "handle_events": ["self"],
}
# Attributes it reads of a connection and of the request in progress on it.
PROTOCOL_ATTRIBUTES = ("connections", "cycle", "conn", "transport", "loop")
CYCLE_ATTRIBUTES = ("more_body", "response_complete", "disconnected", "message_event")
CYCLE_ATTRIBUTES += ("response_started",)


def test_the_installed_uvicorn_is_the_pinned_minor_release():
    pins = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    pin = next(dependency for dependency in pins if dependency.startswith("uvicorn"))
    low, high = (part.lstrip("<>=") for part in pin.removeprefix("uvicorn").split(","))
    installed = tuple(int(n) for n in uvicorn.__version__.split(".")[:2])
    assert tuple(int(n) for n in low.split(".")[:2]) <= installed
    assert installed < tuple(int(n) for n in high.split(".")[:2])


def test_the_overridden_and_called_methods_keep_their_parameters():
    for name, parameters in METHODS.items():
        method = getattr(H11Protocol, name, None)
        assert method is not None, f"H11Protocol.{name} is gone"
        assert list(inspect.signature(method).parameters) == parameters, name
    overridden = {name for name in METHODS if name in vars(CappedH11Protocol)}
    assert overridden == set(METHODS) - {"handle_events"}


def test_a_connection_mid_request_has_the_attributes_the_cap_reads(served):
    head = (
        f"POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1:{served.server.port}\r\n"
        f"Authorization: Bearer {served.client.token}\r\nContent-Length: 10\r\n\r\n"
    )
    with socket.create_connection((served.server.host, served.server.port)) as client:
        client.sendall(head.encode() + b"abc")  # the body's rest never comes
        connections = served.server._uvicorn.server_state.connections
        deadline = time.monotonic() + 10
        while not any(getattr(c, "cycle", None) for c in connections):
            assert time.monotonic() < deadline, "the request never reached the protocol"
            time.sleep(0.01)
        protocol = next(iter(connections))
        assert isinstance(protocol, CappedH11Protocol)
        for name in PROTOCOL_ATTRIBUTES:
            assert hasattr(protocol, name), f"H11Protocol has no {name} any more"
        for name in CYCLE_ATTRIBUTES:
            assert hasattr(protocol.cycle, name), f"the request cycle has no {name} any more"
        assert protocol.cycle.more_body and not protocol.idle
        assert callable(protocol.conn.receive_data)
