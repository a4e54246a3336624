"""The routes every kind of work has (list, state, cancel, events), and a submission's answers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from engine.server.events import ChangeSignal, work_events
from engine.server.http_errors import ApiError
from engine.server.schemas import ErrorAnswer
from engine.server.work import Conflict, Item, QueueClosed, QueueFull, WorkItem, WorkQueue

UNKNOWN: dict[int | str, dict[str, Any]] = {404: {"model": ErrorAnswer}}


@dataclass(frozen=True)
class Family:
    """One kind of work as the API shows it: where it lives and how it is typed."""

    path: str  # the collection, /v1/<key>: /v1/jobs
    status: type[BaseModel]  # an item's state, also its `state` events' data
    listing: type[BaseModel]  # GET path: {key: [status, ...]}
    retry_after: int  # seconds a 429 asks a client to wait
    events: str  # what the event stream sends, for the schema

    @property
    def key(self) -> str:
        """The collection's name, also the listing's one field: "jobs"."""
        return self.path.rsplit("/", 1)[-1]

    @property
    def noun(self) -> str:
        """One item of it, in messages: "unknown job 'x'"."""
        return self.key.removesuffix("s")


def submission(
    app: FastAPI, family: Family, suffix: str, summary: str, responses: dict[int | str, Any]
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The decorator of a POST that queues an item: 202 with its state, followed at Location."""
    return app.post(
        family.path + suffix,
        status_code=202,
        response_model=family.status,
        summary=summary,
        responses=responses,
    )


def found(queue: WorkQueue[Item], family: Family, item_id: str) -> Item:
    """The item with this id; a 404 answer if unknown or forgotten."""
    item = queue.get(item_id)
    if item is None:
        raise ApiError(404, f"unknown {family.noun} {item_id[:40]!r}")
    return item


@contextmanager
def refusals(family: Family) -> Iterator[None]:
    """Answer a queue's refusals inside the block with their status: 409, 429 or 503."""
    try:
        yield
    except Conflict as error:
        raise ApiError(409, str(error)) from None
    except QueueFull as error:
        raise ApiError(429, str(error), {"Retry-After": str(family.retry_after)}) from None
    except QueueClosed as error:
        raise ApiError(503, str(error)) from None


def queued(response: Response, family: Family, submit: Callable[[], WorkItem]) -> dict[str, Any]:
    """Submit, answer the new item's state with its Location, or the refusal's status."""
    with refusals(family):
        item = submit()
    response.headers["Location"] = f"{family.path}/{item.id}"
    return item.status()


def add_work_routes(
    app: FastAPI, queue: WorkQueue[Any], family: Family, changes: ChangeSignal
) -> None:
    """Add GET path, GET path/{id}, DELETE path/{id} and GET path/{id}/events to the app."""
    noun, path = family.noun, family.path

    async def listing() -> dict[str, Any]:
        return {family.key: [item.status() for item in queue.items()]}

    async def state(id: str) -> dict[str, Any]:
        return found(queue, family, id).status()

    async def cancel(id: str) -> dict[str, Any]:
        return (queue.cancel(id) or found(queue, family, id)).status()

    async def events(id: str) -> StreamingResponse:
        item = found(queue, family, id)
        # The type set as a header: Starlette would append "; charset=utf-8" to media_type.
        return StreamingResponse(
            work_events(queue, item, changes), headers={"Content-Type": "text/event-stream"}
        )

    # Each route named after its family, so the schema's operation ids stay apart.
    typed = {"response_model": family.status, "responses": UNKNOWN}
    stream = {
        "response_class": StreamingResponse,
        "responses": {200: {"content": {"text/event-stream": {}}}, **UNKNOWN},
    }
    routes: list[tuple[str, Callable[..., Any], str, str, str, dict[str, Any]]] = [
        ("", listing, "GET", f"list_{family.key}", f"Every remembered {noun}, oldest first",
         {"response_model": family.listing}),
        ("/{id}", state, "GET", f"{noun}_status", f"{noun.capitalize()} state", typed),
        ("/{id}", cancel, "DELETE", f"cancel_{noun}",
         f"Cancel: a waiting {noun} at once, a running one at its next step", typed),
        ("/{id}/events", events, "GET", f"{noun}_events",
         f"Server-Sent Events: {family.events}", stream),
    ]  # fmt: skip
    for suffix, endpoint, method, name, summary, extra in routes:
        app.add_api_route(
            path + suffix, endpoint, methods=[method], name=name, summary=summary, **extra
        )
