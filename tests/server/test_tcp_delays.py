"""The server's sockets send small answers at once: no 40 ms wait on the client's delayed ACK."""

from __future__ import annotations

import http.client
import socket
from typing import Any

import pytest

from engine.server.connections import CappedH11Protocol


def test_accepted_connections_have_nagle_off(serve: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    accepted: list[socket.socket] = []
    made = CappedH11Protocol.connection_made

    def recording(self: CappedH11Protocol, transport: Any) -> None:
        made(self, transport)
        accepted.append(transport.get_extra_info("socket"))

    monkeypatch.setattr(CappedH11Protocol, "connection_made", recording)
    served = serve()
    host, port = served.url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request(
        "GET", "/v1/health", headers={"Authorization": f"Bearer {served.client.token}"}
    )
    assert connection.getresponse().status == 200  # the connection stays open: its socket too
    assert [s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for s in accepted] == [1]
    connection.close()
