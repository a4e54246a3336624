"""Bearer token, Host check, no CORS, body limit, and the token file."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys

import pytest

from engine.errors import EngineError
from engine.server.app import ServerConfig
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
    served = serve(config=ServerConfig(max_body=1000))
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


def test_an_existing_private_token_file_is_used_as_it_is(tmp_path):
    path = tmp_path / "token"
    path.write_text("my-own-token-of-enough-length-42\n")
    os.chmod(path, 0o600)
    assert load_or_create_token(path) == "my-own-token-of-enough-length-42"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_token_file_others_can_read_is_refused_with_the_fix(tmp_path, mode):
    path = tmp_path / "token"
    path.write_text("x" * 43 + "\n")
    os.chmod(path, mode)
    with pytest.raises(EngineError) as refused:
        load_or_create_token(path)
    message = str(refused.value)
    assert f"chmod 600 {path}" in message and "\n" not in message
    assert stat.S_IMODE(path.stat().st_mode) == mode  # never changed behind the user's back


@pytest.mark.parametrize("token", ["one-word", "x" * 21])
def test_a_token_shorter_than_128_bits_is_refused(tmp_path, token):
    path = tmp_path / "token"
    path.write_text(token + "\n")
    os.chmod(path, 0o600)
    with pytest.raises(EngineError, match="too short.*at least 22"):
        load_or_create_token(path)
    path.write_text("x" * 22 + "\n")
    assert load_or_create_token(path) == "x" * 22


def test_a_dangling_symlink_is_a_one_line_error(tmp_path):
    path = tmp_path / "token"
    path.symlink_to(tmp_path / "gone" / "token")
    with pytest.raises(EngineError, match="symlink.*does not exist") as refused:
        load_or_create_token(path)
    assert "\n" not in str(refused.value)
    assert not (tmp_path / "gone").exists()  # nothing created through the link


def test_servers_starting_together_agree_on_one_complete_token(tmp_path):
    # Separate processes, as two engines would be; each prints the token it ended up with.
    path = tmp_path / "config" / "token"
    script = (
        "import sys; from engine.server.auth import load_or_create_token; "
        "print(load_or_create_token(sys.argv[1]))"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    outputs = [process.communicate(timeout=60) for process in processes]
    assert [error for _, error in outputs] == [""] * 8
    tokens = {out.strip() for out, _ in outputs}
    assert tokens == {path.read_text().strip()}
    assert len(tokens.pop()) == 43
    assert [p.name for p in path.parent.iterdir()] == ["token"]  # no temporary file left behind


def test_token_matches():
    assert token_matches("Bearer abc", "abc")
    assert not token_matches("Bearer abd", "abc")
    assert not token_matches(None, "abc")
    assert not token_matches("Bearer \u00e9", "abc")
