"""HTTP routing and handlers of the engine server, on the stdlib's threading HTTP server."""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import socket
import socketserver
import threading
from collections.abc import Callable, Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from engine import __version__
from engine.errors import EngineError
from engine.server.auth import token_matches
from engine.server.jobs import (
    DEFAULT_HISTORY,
    DEFAULT_MAX_QUEUED,
    DONE,
    GenerateEngine,
    Job,
    JobQueue,
    QueueClosed,
    QueueFull,
    one_line,
)
from engine.server.openapi import openapi_schema
from engine.server.payload import parse_job, parse_model_name

log = logging.getLogger("engine.server")

MAX_BODY = 32 * 1024 * 1024  # bytes; a 8192 px RGBA PNG sketch fits with room to spare
KEEPALIVE_SECONDS = 15.0  # SSE comment interval: keeps proxies open and notices gone clients
_JOB_PATH = re.compile(r"^/v1/jobs/([^/]+)(/events|/result)?$")

LoadEngine = Callable[[str], GenerateEngine]
ListModels = Callable[[], Iterable[Any]]  # items with .name and .path (engine.weights.ModelEntry)


class HttpError(Exception):
    """An answer other than success: status and a one-line message."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = one_line(message)
        self.headers = headers or {}


def is_loopback(host: str) -> bool:
    """True for localhost and loopback IP addresses."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_names(host: str, extra: Iterable[str]) -> set[str]:
    """Names a Host header may carry for a server bound to `host`."""
    names = {host.lower(), *(name.lower() for name in extra)}
    if is_loopback(host):
        names |= {"127.0.0.1", "localhost", "[::1]"}
    elif host in ("0.0.0.0", "::", ""):
        # Bound to every interface: accept the machine's own names; others via allowed_hosts.
        names |= {"127.0.0.1", "localhost", socket.gethostname().lower()}
    return {f"[{name}]" if ":" in name and not name.startswith("[") else name for name in names}


def _too_large(length: int, limit: int) -> HttpError:
    return HttpError(413, f"body of {length} bytes is over the {limit} byte limit")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a stuck client must never keep the process alive
    block_on_close = False

    def __init__(self, address: tuple[str, int], app: EngineServer) -> None:
        self.app = app
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The stdlib prints to stderr; route it to the log, where --verbose shows it.
        log.debug("connection from %s ended with an error", client_address, exc_info=True)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls getfqdn(), a DNS lookup that can stall start-up.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class EngineServer:
    """The engine's HTTP server and job queue: bind at construction, start(), close()."""

    def __init__(
        self,
        engine: GenerateEngine,
        *,
        token: str,
        host: str = "127.0.0.1",
        port: int = 0,
        model_name: str = "default",
        load_engine: LoadEngine | None = None,
        list_models: ListModels | None = None,
        allowed_hosts: Iterable[str] = (),
        max_body: int = MAX_BODY,
        history: int = DEFAULT_HISTORY,
        max_queued: int = DEFAULT_MAX_QUEUED,
        log_requests: bool = False,
    ) -> None:
        if not token:
            raise EngineError("the server needs a token")
        self.token = token
        self.model_name = model_name
        self.load_engine = load_engine
        self.list_models = list_models
        self.max_body = max_body
        self.log_requests = log_requests
        self.jobs = JobQueue(engine, history=history, max_queued=max_queued)
        self._select_lock = threading.Lock()  # one model switch at a time
        self._httpd = _HTTPServer((host, port), self)
        self.host = host
        self.port = int(self._httpd.server_address[1])
        names = _host_names(host, allowed_hosts)
        self.allowed_hosts = {f"{name}:{self.port}" for name in names}
        if self.port == 80:
            self.allowed_hosts |= names
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL of the server, e.g. http://127.0.0.1:8731."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        """Start the job worker and serve requests on a background thread."""
        self.jobs.start()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="engine-http", kwargs={"poll_interval": 0.1}
        )
        self._thread.start()

    def close(self) -> None:
        """Cancel jobs, stop serving and close the socket."""
        self.jobs.close()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> EngineServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def health(self) -> dict[str, Any]:
        """Version, model, device and queue length."""
        info = dict(self.jobs.engine.info)
        device = info.pop("device", "unknown")
        running = self.jobs.running()
        return {
            "status": "ok",
            "version": __version__,
            "model": {**info, "selected": self.model_name},
            "device": device,
            "queue_length": self.jobs.queued_count(),
            "running": running.id if running is not None else None,
        }

    def select_model(self, name: str) -> dict[str, Any]:
        """Load the named model once the running job ends; EngineError if unknown."""
        if self.load_engine is None:
            raise EngineError("this server cannot switch models")
        load = self.load_engine
        with self._select_lock:
            if name != self.model_name:
                self.jobs.switch_engine(lambda: load(name))
                self.model_name = name
        return self.health()

    def models(self) -> dict[str, Any]:
        """The models that can be selected and the one loaded."""
        entries = list(self.list_models()) if self.list_models is not None else []
        models = [{"name": entry.name, "path": str(entry.path)} for entry in entries]
        return {"current": self.model_name, "models": models}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so a polling client reuses its connection
    server_version = f"SketchVariants/{__version__}"
    sys_version = ""
    server: _HTTPServer

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's naming)
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")

    def do_PUT(self) -> None:  # noqa: N802
        self._handle("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self._handle("PATCH")

    def do_OPTIONS(self) -> None:  # noqa: N802
        self._handle("OPTIONS")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.server.app.log_requests:
            log.info("%s %s", self.address_string(), format % args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors found by the stdlib's parser, answered as JSON like every other error."""
        if self.request_version == "HTTP/0.9":
            # An unparsable request line leaves the stdlib at HTTP/0.9, which has no status line.
            self.request_version = "HTTP/1.0"
        # The parser's 5xx answers (unknown method 501, HTTP version 505) are client mistakes.
        if code == HTTPStatus.NOT_IMPLEMENTED:
            code = HTTPStatus.METHOD_NOT_ALLOWED
        elif code >= 500:
            code = HTTPStatus.BAD_REQUEST
        self.close_connection = True
        self._body_unread = False
        self._send_json(code, {"error": one_line(message or HTTPStatus(code).phrase)})

    # --- plumbing -------------------------------------------------------------------------

    def _handle(self, method: str) -> None:
        self._body_unread = True
        try:
            self._dispatch(method)
        except HttpError as error:
            self._send_json(error.status, {"error": error.message}, error.headers)
        except EngineError as error:
            self._send_json(400, {"error": one_line(error)})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as error:  # keep serving whatever a handler does wrong
            log.exception("error handling %s %s", method, self.path)
            self._send_json(500, {"error": one_line(f"internal error: {type(error).__name__}")})

    def _read_body(self) -> bytes:
        if "Transfer-Encoding" in self.headers:
            raise HttpError(411, "send the body with a Content-Length, not chunked")
        length_text = self.headers.get("Content-Length", "0")
        try:
            length = int(length_text)
        except ValueError:
            raise HttpError(400, "Content-Length is not a number") from None
        if length < 0:
            raise HttpError(400, "Content-Length is negative")
        if length > self.server.app.max_body:
            raise _too_large(length, self.server.app.max_body)
        body = self.rfile.read(length) if length else b""
        self._body_unread = False
        if len(body) < length:
            raise HttpError(400, "body ended before Content-Length bytes")
        return body

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        headers_in = getattr(self, "headers", None) or {}
        if self._body_unread and headers_in.get("Content-Length", "0") not in ("", "0"):
            # The body is still on the socket; a next request on it would be garbage.
            self.close_connection = True
        body = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if getattr(self, "command", None) != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _dispatch(self, method: str) -> None:
        app = self.server.app
        # A body over the limit is refused before reading it.
        self._content_length_check()
        host = (self.headers.get("Host") or "").strip().lower()
        if host not in app.allowed_hosts:
            raise HttpError(400, f"Host header {host[:80]!r} is not this server")
        if not token_matches(self.headers.get("Authorization"), app.token):
            raise HttpError(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})
        body = self._read_body()
        path = urlsplit(self.path).path
        self._route(method, path, body)

    def _content_length_check(self) -> None:
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            return  # _read_body reports it
        if length > self.server.app.max_body:
            self.close_connection = True
            raise _too_large(length, self.server.app.max_body)

    def _route(self, method: str, path: str, body: bytes) -> None:
        app = self.server.app
        if path == "/openapi.json":
            self._only(method, "GET")
            return self._send_json(200, openapi_schema())
        if path == "/v1/health":
            self._only(method, "GET")
            return self._send_json(200, app.health())
        if path == "/v1/models":
            self._only(method, "GET")
            return self._send_json(200, app.models())
        if path == "/v1/models/select":
            self._only(method, "POST")
            return self._send_json(200, app.select_model(parse_model_name(body)))
        if path == "/v1/jobs":
            self._only(method, "GET", "POST")
            if method == "GET":
                return self._send_json(200, {"jobs": [job.status() for job in app.jobs.jobs()]})
            return self._submit(body)
        match = _JOB_PATH.match(path)
        if match is None:
            raise HttpError(404, f"no such endpoint: {path[:80]}")
        job_id, tail = match.groups()
        if tail is None:
            self._only(method, "GET", "DELETE")
            job = app.jobs.cancel(job_id) if method == "DELETE" else app.jobs.get(job_id)
            return self._send_json(200, self._found(job, job_id).status())
        self._only(method, "GET")
        job = self._found(app.jobs.get(job_id), job_id)
        if tail == "/events":
            return self._stream_events(job)
        return self._send_result(job)

    @staticmethod
    def _only(method: str, *allowed: str) -> None:
        if method not in allowed:
            raise HttpError(405, f"{method} is not allowed here", {"Allow": ", ".join(allowed)})

    @staticmethod
    def _found(job: Job | None, job_id: str) -> Job:
        if job is None:
            raise HttpError(404, f"unknown job {job_id[:40]!r}")
        return job

    def _submit(self, body: bytes) -> None:
        request = parse_job(body)
        try:
            job = self.server.app.jobs.submit(request)
        except QueueFull as error:
            raise HttpError(429, str(error), {"Retry-After": "5"}) from None
        except QueueClosed as error:
            raise HttpError(503, str(error)) from None
        self._send_json(202, job.status(), {"Location": f"/v1/jobs/{job.id}"})

    def _send_result(self, job: Job) -> None:
        if job.state != DONE:
            detail = f": {job.error}" if job.error else ""
            raise HttpError(409, f"job is {job.state}{detail}")
        self._send_json(200, {"id": job.id, "variants": job.variants})

    def _stream_events(self, job: Job) -> None:
        jobs = self.server.app.jobs
        self.close_connection = True  # the stream ends by closing, so no Content-Length
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Connection", "close")
        self.end_headers()
        sent = 0
        try:
            while True:
                events, finished = jobs.wait_events(job, sent, KEEPALIVE_SECONDS)
                for name, data in events:
                    self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
                sent += len(events)
                if not events:
                    if jobs.closed and not finished:
                        return
                    self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
                if finished:
                    return
        except (BrokenPipeError, ConnectionResetError, OSError):
            return  # the client left; the job runs on for its result
