"""A small stdlib HTTP client of the engine server, for tests, the benchmark and scripts."""

from __future__ import annotations

import base64
import http.client
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from engine.images import decode_image, encode_png


class Headers(Mapping[str, str]):
    """Response headers looked up by name in any case, as HTTP defines them."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._items = {name.lower(): (name, value) for name, value in items}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True)
class Response:
    """Status, headers and body of one answer."""

    status: int
    headers: Headers
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


class Client:
    """Talks to one server with one token; each call uses its own short-lived connection."""

    def __init__(self, url: str, token: str | None, timeout: float = 60.0) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.token = token
        self.timeout = timeout

    def request(
        self,
        method: str,
        path: str,
        body: bytes | dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """Send one request and read the whole answer."""
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        connection = self._connect()
        try:
            connection.request(method, path, body=data, headers=self._headers(headers, data))
            answer = connection.getresponse()
            return Response(answer.status, Headers(answer.getheaders()), answer.read())
        finally:
            connection.close()

    def events(self, job_id: str, kind: str = "jobs") -> Iterator[tuple[str, dict[str, Any]]]:
        """A job's (or, with kind "trainings", a training's) Server-Sent Events as (name, data)
        until the server closes the stream."""
        connection = self._connect()
        try:
            path = f"/v1/{kind}/{job_id}/events"
            connection.request("GET", path, headers=self._headers(None, None))
            answer = connection.getresponse()
            if answer.status != 200:
                raise RuntimeError(f"events: HTTP {answer.status}: {answer.read()!r}")
            name, data = "message", ""
            for raw in answer:
                line = raw.decode().rstrip("\r\n")
                if not line:
                    if data:
                        yield name, json.loads(data)
                    name, data = "message", ""
                elif line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data += line[5:].strip()
        finally:
            connection.close()

    def submit(self, sketch: np.ndarray, **params: Any) -> str:
        """Queue a sketch (RGBA array) with parameters; returns the job id."""
        payload = {"sketch_png": base64.b64encode(encode_png(sketch)).decode(), **params}
        answer = self.request("POST", "/v1/jobs", payload)
        if answer.status != 202:
            raise RuntimeError(f"submit: HTTP {answer.status}: {answer.body!r}")
        return answer.json()["id"]

    def wait(self, job_id: str) -> dict[str, Any]:
        """Follow the job's events to its end; returns its final status."""
        final: dict[str, Any] = {}
        for name, data in self.events(job_id):
            if name == "state":
                final = data
        return final

    def result(self, job_id: str) -> list[tuple[int, np.ndarray]]:
        """The finished job's variants as (seed, RGBA array)."""
        answer = self.request("GET", f"/v1/jobs/{job_id}/result")
        if answer.status != 200:
            raise RuntimeError(f"result: HTTP {answer.status}: {answer.body!r}")
        return [
            (item["seed"], decode_image(base64.b64decode(item["png"])))
            for item in answer.json()["variants"]
        ]

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def _headers(self, extra: dict[str, str] | None, data: bytes | None) -> dict[str, str]:
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        return {**headers, **(extra or {})}
