"""Bearer token, Host check, no CORS, body limit, and the token file."""

from __future__ import annotations

import os
import socket
import stat

import pytest

from engine.errors import EngineError
from engine.server.auth import load_or_create_token, token_matches
from engine.server.client import Client

PATHS = [
    ("GET", "/openapi.json"),
    ("GET", "/v1/health"),
    ("GET", "/v1/models"),
    ("POST", "/v1/models/select"),
    ("GET", "/v1/jobs"),
    ("POST", "/v1/jobs"),
    ("GET", "/v1/jobs/0123456789abcdef0123456789abcdef"),
    ("DELETE", "/v1/jobs/0123456789abcdef0123456789abcdef"),
    ("GET", "/v1/jobs/0123456789abcdef0123456789abcdef/events"),
    ("GET", "/v1/jobs/0123456789abcdef0123456789abcdef/result"),
    ("GET", "/nowhere"),
]


@pytest.mark.parametrize(("method", "path"), PATHS)
@pytest.mark.parametrize("token", [None, "wrong", ""])
def test_every_endpoint_needs_the_token(served, method, path, token):
    client = Client(served.url, token)
    answer = client.request(method, path, b"{}" if method == "POST" else None)
    assert answer.status == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert answer.json() == {"error": "missing or wrong bearer token"}


@pytest.mark.parametrize(
    "header", ["Basic {token}", "Bearer", "Bearer {token}x", "bearer  x{token}", "{token}"]
)
def test_other_authorization_forms_are_refused(served, header):
    value = header.format(token=served.client.token)
    answer = served.client.request("GET", "/v1/health", headers={"Authorization": value})
    assert answer.status == 401


def test_scheme_is_case_insensitive(served):
    value = f"bearer {served.client.token}"
    answer = served.client.request("GET", "/v1/health", headers={"Authorization": value})
    assert answer.status == 200


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "LOCALHOST"])
def test_loopback_host_names_are_accepted(served, name):
    answer = served.client.request(
        "GET", "/v1/health", headers={"Host": f"{name}:{served.server.port}"}
    )
    assert answer.status == 200


@pytest.mark.parametrize(
    "host",
    ["evil.example:{port}", "127.0.0.1:{other}", "127.0.0.1", "localhost.evil.example:{port}", ""],
)
def test_foreign_host_headers_are_refused(served, host):
    port = served.server.port
    value = host.format(port=port, other=port + 1)
    answer = served.client.request("GET", "/v1/health", headers={"Host": value})
    assert answer.status == 400
    assert "Host header" in answer.json()["error"]
    assert served.client.request("GET", "/v1/health").status == 200


def test_no_cors_headers_even_for_a_browser_origin(served):
    headers = {"Origin": "https://evil.example"}
    for method in ("GET", "OPTIONS"):
        answer = served.client.request(method, "/v1/health", headers=headers)
        assert not [name for name in answer.headers if name.lower().startswith("access-control")]
    assert served.client.request("OPTIONS", "/v1/health", headers=headers).status == 405


def test_oversized_body_is_413_and_server_keeps_answering(serve):
    served = serve(max_body=1000)
    answer = served.client.request("POST", "/v1/jobs", b"{" + b" " * 2000 + b"}")
    assert answer.status == 413
    assert served.client.request("GET", "/v1/health").status == 200


def test_declared_32mb_body_is_refused_before_it_is_sent(served):
    # Only the headers go out: the server must answer without waiting for 33 MB.
    request = (
        "POST /v1/jobs HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{served.server.port}\r\n"
        f"Authorization: Bearer {served.client.token}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {33 * 1024 * 1024}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", served.server.port), timeout=10) as connection:
        connection.sendall(request.encode())
        reply = connection.recv(65536).decode()
    assert reply.startswith("HTTP/1.1 413")
    assert "Connection: close" in reply
    assert served.client.request("GET", "/v1/health").status == 200


def test_token_file_is_created_private_and_reused(tmp_path):
    path = tmp_path / "config" / "sketch-variants" / "token"
    token = load_or_create_token(path)
    assert len(token) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_token(path) == token
    assert load_or_create_token(tmp_path / "other") != token


def test_existing_token_file_is_used_as_it_is(tmp_path):
    path = tmp_path / "token"
    path.write_text("my-own-token\n")
    os.chmod(path, 0o644)
    assert load_or_create_token(path) == "my-own-token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # not rewritten


@pytest.mark.parametrize("content", [b"", b"   \n", b"two words", b"\xff\xfe"])
def test_unusable_token_file_is_a_clear_error(tmp_path, content):
    path = tmp_path / "token"
    path.write_bytes(content)
    with pytest.raises(EngineError, match="token file"):
        load_or_create_token(path)


def test_token_matches():
    assert token_matches("Bearer abc", "abc")
    assert not token_matches("Bearer abd", "abc")
    assert not token_matches(None, "abc")
    assert not token_matches("Bearer \u00e9", "abc")
