"""Talks to the engine over HTTP with Qt's asynchronous network classes; failures become values."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .events import Event, StateChange, parse_event
from .qt import QNetworkReply, QNetworkRequest, QObject, QUrl, network_manager
from .sse import SseParser
from .values import JobRequest, Variant


class FailureKind(Enum):
    """Why a request failed, as far as the plugin's logic cares."""

    UNREACHABLE = "unreachable"  # nothing answers at the address
    AUTH = "auth"  # the engine refused the token
    REFUSED = "refused"  # the engine answered with an error (bad input, unknown job, ...)
    PROTOCOL = "protocol"  # the answer was not what the API promises


UNREACHABLE, AUTH, REFUSED, PROTOCOL = FailureKind

# Network errors that mean "nothing is listening there" rather than "it answered badly".
_UNREACHABLE_ERRORS = {
    QNetworkReply.NetworkError.ConnectionRefusedError,
    QNetworkReply.NetworkError.HostNotFoundError,
    QNetworkReply.NetworkError.TimeoutError,
    QNetworkReply.NetworkError.OperationCanceledError,  # our transfer timeout fired
    QNetworkReply.NetworkError.RemoteHostClosedError,
    QNetworkReply.NetworkError.NetworkSessionFailedError,
    QNetworkReply.NetworkError.TemporaryNetworkFailureError,
    QNetworkReply.NetworkError.UnknownNetworkError,
}
REQUEST_TIMEOUT_MS = 15_000  # health, submit, result and cancel; never the event stream


@dataclass(frozen=True)
class Failure:
    """Why a request did not give what was asked: a kind for the logic, a message for the artist."""

    kind: FailureKind
    message: str

    @property
    def lost(self) -> bool:
        """True when every further request would fail the same way (engine gone or refusing us)."""
        return self.kind in (UNREACHABLE, AUTH)


OnError = Callable[[Failure], None]
# Runs one callback; the controller passes one that turns a bug into a message for the artist.
Guard = Callable[[Callable[[], object]], None]


def unguarded(work: Callable[[], object]) -> None:
    """The default guard: just run the callback."""
    work()


class EventStream(QObject):
    """One job's or training's event stream: typed events as bytes arrive, then exactly one of
    a final StateChange (the last event) or on_error."""

    def __init__(
        self,
        reply: QNetworkReply,
        on_event: Callable[[Event], None],
        on_error: OnError,
        guard: Guard = unguarded,
    ) -> None:
        super().__init__(reply)
        self._reply = reply
        self._parser = SseParser()
        self._on_event, self._on_error = on_event, on_error
        self._ended = False
        reply.readyRead.connect(lambda: guard(self._read))
        reply.finished.connect(lambda: guard(self._finished))

    def close(self) -> None:
        """Stop listening; no further callbacks."""
        if not self._ended:
            self._ended = True
            self._reply.abort()

    def _read(self) -> None:
        if self._ended:
            return
        for sse in self._parser.feed(bytes(self._reply.readAll())):
            event = parse_event(sse.event, _json_object(sse.data))
            if event is None:
                continue
            if isinstance(event, StateChange) and event.final:
                self._ended = True
                self._on_event(event)
                self._reply.abort()
                return
            self._on_event(event)

    def _finished(self) -> None:
        self._read()
        if self._ended:
            self._reply.deleteLater()
            return
        self._ended = True
        failure = _failure(self._reply) or Failure(
            PROTOCOL, "the engine closed the progress stream before the work ended"
        )
        self._reply.deleteLater()
        self._on_error(failure)


class EngineClient(QObject):
    """The engine's HTTP API: every call takes callbacks and never raises."""

    def __init__(self, parent: QObject | None = None, guard: Guard = unguarded) -> None:
        super().__init__(parent)
        self._guard = guard
        self._network = network_manager(self)
        self.url = ""
        self.token = ""
        # Replies in flight. Without a reference from here a reply's wrapper can be collected
        # with its callbacks as a reference cycle, and the request then silently never finishes.
        self._in_flight: set[QNetworkReply] = set()

    def configure(self, url: str, token: str) -> None:
        """Point the client at an engine."""
        self.url, self.token = url.rstrip("/"), token

    def health(self, on_ok: Callable[[dict[str, Any]], None], on_error: OnError) -> None:
        """GET /v1/health."""
        reply = _sent(self._network.get(self._request("/v1/health")))
        self._on_json(reply, on_ok, on_error)

    def submit(self, job: JobRequest, on_ok: Callable[[str], None], on_error: OnError) -> None:
        """POST /v1/jobs; on_ok gets the job id."""
        request = self._request("/v1/jobs")
        request.setHeader(QNetworkRequest.KnownHeaders.ContentTypeHeader, "application/json")
        reply = _sent(self._network.post(request, job.to_json()))

        def accepted(body: dict[str, Any]) -> None:
            job_id = body.get("id")
            if isinstance(job_id, str) and job_id:
                on_ok(job_id)
            else:
                on_error(Failure(PROTOCOL, "the engine accepted the job but sent no job id"))

        self._on_json(reply, accepted, on_error)

    def events(
        self,
        work_id: str,
        on_event: Callable[[Event], None],
        on_error: OnError,
        kind: str = "jobs",
    ) -> EventStream:
        """GET /v1/jobs/{id}/events (or /v1/trainings/{id}/events); on_event gets the typed
        events up to the final state. No transfer timeout: the stream lasts as long as the work."""
        request = self._request(f"/v1/{kind}/{work_id}/events", timeout=False)
        request.setRawHeader(b"Accept", b"text/event-stream")
        reply = _sent(self._network.get(request))
        self._in_flight.add(reply)
        reply.finished.connect(lambda: self._in_flight.discard(reply))

        def failed(failure: Failure) -> None:
            if failure.kind is not PROTOCOL:
                on_error(failure)
                return
            # Qt reports a stream cut short without an error, and an engine that was killed
            # cuts it short too: ask the engine, so a lost one is reported as lost.
            self.health(lambda _health: on_error(failure), on_error)

        return EventStream(reply, on_event, failed, self._guard)

    def result(
        self, job_id: str, on_ok: Callable[[list[Variant]], None], on_error: OnError
    ) -> None:
        """GET /v1/jobs/{id}/result; on_ok gets the variants."""

        def parse(body: dict[str, Any]) -> None:
            variants = _variants(body)
            if variants is None:
                on_error(Failure(PROTOCOL, "the engine's result is not a list of variant images"))
            else:
                on_ok(variants)

        self._on_json(
            _sent(self._network.get(self._request(f"/v1/jobs/{job_id}/result"))), parse, on_error
        )

    def get_json(
        self, path: str, on_ok: Callable[[dict[str, Any]], None], on_error: OnError
    ) -> None:
        """GET a JSON object (e.g. /v1/models)."""
        self._on_json(_sent(self._network.get(self._request(path))), on_ok, on_error)

    def post_json(
        self, path: str, body: bytes, on_ok: Callable[[dict[str, Any]], None], on_error: OnError
    ) -> None:
        """POST a JSON body (e.g. /v1/trainings) and take the JSON answer."""
        request = self._request(path)
        request.setHeader(QNetworkRequest.KnownHeaders.ContentTypeHeader, "application/json")
        self._on_json(_sent(self._network.post(request, body)), on_ok, on_error)

    def cancel(self, job_id: str, kind: str = "jobs") -> None:
        """DELETE /v1/jobs/{id} (or /v1/trainings/{id}); fire and forget, since the event stream
        reports the outcome."""
        reply = _sent(self._network.deleteResource(self._request(f"/v1/{kind}/{job_id}")))
        self._in_flight.add(reply)

        def finished() -> None:
            self._in_flight.discard(reply)
            reply.deleteLater()

        reply.finished.connect(finished)

    def _request(self, path: str, timeout: bool = True) -> QNetworkRequest:
        request = QNetworkRequest(QUrl(self.url + path))
        request.setRawHeader(b"Authorization", f"Bearer {self.token}".encode())
        if timeout and hasattr(request, "setTransferTimeout"):  # Qt >= 5.15
            request.setTransferTimeout(REQUEST_TIMEOUT_MS)
        return request

    def _on_json(
        self, reply: QNetworkReply, on_ok: Callable[[dict[str, Any]], None], on_error: OnError
    ) -> None:
        self._in_flight.add(reply)

        def finished() -> None:
            self._in_flight.discard(reply)
            reply.deleteLater()
            failure = _failure(reply)
            if failure is not None:
                on_error(failure)
                return
            body = _json_object(bytes(reply.readAll()).decode("utf-8", "replace"))
            if not body:
                on_error(Failure(PROTOCOL, "the engine's answer is not JSON"))
            else:
                on_ok(body)

        reply.finished.connect(lambda: self._guard(finished))


def _sent(reply: QNetworkReply | None) -> QNetworkReply:
    """A request's reply: Qt always makes one, though its stubs allow None."""
    if reply is None:
        raise RuntimeError("Qt made no reply for a request")
    return reply


def _failure(reply: QNetworkReply) -> Failure | None:
    """The failure a finished reply represents, or None when it succeeded."""
    status = reply.attribute(QNetworkRequest.Attribute.HttpStatusCodeAttribute)
    if status is None:
        # The type checker's Qt stubs give the name `error` to the signal only; Qt's getter has
        # it too.
        error = reply.error()  # type: ignore[operator]
        if error == QNetworkReply.NetworkError.NoError:
            return None
        if error in _UNREACHABLE_ERRORS:
            return Failure(UNREACHABLE, reply.errorString())
        return Failure(UNREACHABLE, f"network error: {reply.errorString()}")
    if 200 <= int(status) < 300:
        return None
    detail = _error_text(bytes(reply.readAll()))
    if int(status) == 401:
        return Failure(AUTH, detail or "the engine refused the access token")
    return Failure(REFUSED, f"{detail or 'the engine refused the request'} (HTTP {status})")


def _error_text(body: bytes) -> str:
    """The one-line message of an error answer, JSON or plain text."""
    text = body.decode("utf-8", "replace").strip()
    data = _json_object(text)
    for key in ("error", "detail", "message"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, dict) and isinstance(value.get("message"), str):
            return value["message"]
    return text.splitlines()[0][:200] if text else ""


def _json_object(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _variants(body: dict[str, Any]) -> list[Variant] | None:
    items = body.get("variants")
    if not isinstance(items, list):
        return None
    variants = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("png"), str):
            return None
        try:
            png = base64.b64decode(item["png"], validate=True)
        except (binascii.Error, ValueError):
            return None
        seed = item.get("seed")
        variants.append(Variant(seed=seed if isinstance(seed, int) else -1, png=png))
    return variants
