"""What every request must pass before any route sees it: its Host, the bearer token, its framing.

Plain ASGI middleware, so it runs before FastAPI reads or parses a byte of the body. A refused
request also closes its connection: its unread body is never taken for a next request.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Iterable
from typing import Any

from engine.server.auth import token_matches

Scope = dict[str, Any]
Headers = list[tuple[bytes, bytes]]
# On every answer: nothing here may be cached, or sniffed into HTML by a browser.
SAFETY_HEADERS: Headers = [(b"Cache-Control", b"no-store"), (b"X-Content-Type-Options", b"nosniff")]


def is_loopback(host: str) -> bool:
    """True for localhost and loopback IP addresses."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed_host_headers(host: str, port: int, extra: Iterable[str] = ()) -> frozenset[str]:
    """The Host header values a server bound to host:port answers (lower case).

    Anything else is refused: a web page that rebinds its own DNS name to 127.0.0.1 still sends
    that name, so it cannot reach the engine through a visitor's browser.
    """
    names = {host.lower(), *(name.lower() for name in extra)}
    if is_loopback(host):
        names |= {"127.0.0.1", "localhost", "[::1]"}
    elif host in ("0.0.0.0", "::", ""):
        # Bound to every interface: accept the machine's own names; others via allowed_hosts.
        names |= {"127.0.0.1", "localhost", socket.gethostname().lower()}
    names = {f"[{name}]" if ":" in name and not name.startswith("[") else name for name in names}
    values = {f"{name}:{port}" for name in names}
    if port == 80:
        values |= names
    return frozenset(values)


class RequestGuard:
    """ASGI middleware: exactly one allowed Host, the bearer token, a sized body under the limit."""

    def __init__(self, app: Any, *, token: str, allowed_hosts: frozenset[str], max_body: int):
        self.app = app
        self.token = token
        self.allowed_hosts = allowed_hosts
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_safety_headers(send)
        refusal = self.refusal(scope["headers"])
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, message, headers = refusal
        await send_json(send, status, {"error": message}, [*headers, (b"Connection", b"close")])

    def refusal(self, headers: Headers) -> tuple[int, str, Headers] | None:
        """Status, message and headers of the answer refusing a request, or None to let it in."""
        hosts = _values(headers, b"host")
        if len(hosts) != 1:
            return 400, f"send exactly one Host header, not {len(hosts)}", []
        host = hosts[0].strip().lower()
        if host not in self.allowed_hosts:
            message = f"Host header {host[:80]!r} is not this server: use the address it printed"
            return 400, f"{message}, or start it with --allowed-host NAME", []
        authorizations = _values(headers, b"authorization")
        if len(authorizations) != 1 or not token_matches(authorizations[0], self.token):
            return 401, "missing or wrong bearer token", [(b"WWW-Authenticate", b"Bearer")]
        if _values(headers, b"transfer-encoding"):
            return 411, "send the body with a Content-Length, not chunked", []
        # h11 has refused malformed or conflicting lengths already, and ends the body at this one.
        lengths = _values(headers, b"content-length")
        if lengths and int(lengths[0]) > self.max_body:
            return 413, f"body of {lengths[0]} bytes is over the {self.max_body} byte limit", []
        return None


async def send_json(
    send: Any, status: int, payload: Any, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    """Send a whole JSON answer through an ASGI `send`."""
    body = json.dumps(payload).encode()
    start_headers = [
        (b"Content-Type", b"application/json"),
        (b"Content-Length", str(len(body)).encode()),
        *headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": start_headers})
    await send({"type": "http.response.body", "body": body})


def _values(headers: Headers, name: bytes) -> list[str]:
    # Header values arrive as bytes; latin-1 maps each byte to one character, losslessly.
    return [value.decode("latin-1") for key, value in headers if key == name]


def _with_safety_headers(send: Any) -> Any:
    async def send_with_headers(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            present = {key.lower() for key, _ in message.get("headers", [])}
            extra = [(key, value) for key, value in SAFETY_HEADERS if key.lower() not in present]
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return send_with_headers
