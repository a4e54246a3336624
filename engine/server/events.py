"""Server-Sent Events of a job or training, woken by its queue's changes (no thread per stream)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from engine.server.work import WorkItem, WorkQueue

KEEPALIVE_SECONDS = 15.0  # SSE comment interval: keeps proxies open and notices gone clients


class ChangeSignal:
    """Wakes coroutines on one event loop whenever notify() is called, from any thread."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Bind to the loop the waiters run on (the server's)."""
        self._loop = loop
        self._event = asyncio.Event()

    def notify(self) -> None:
        """Wake every waiter; safe from any thread and never blocks."""
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits any more
            loop.call_soon_threadsafe(self._fire)

    async def wait(self, timeout: float) -> bool:
        """Wait for the next notify(); False if `timeout` seconds passed first."""
        assert self._event is not None, "attach() first"
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def _fire(self) -> None:
        # A fresh event for the next round: waiters hold the one they started waiting on.
        assert self._event is not None
        event, self._event = self._event, asyncio.Event()
        event.set()


async def work_events(
    queue: WorkQueue[Any],
    item: WorkItem,
    changes: ChangeSignal,
    keepalive: float = KEEPALIVE_SECONDS,
) -> AsyncIterator[bytes]:
    """The item's events as SSE bytes from its first, ending after its final state event."""
    sent = 0
    while True:
        # Read and then wait with no await in between: a change in that gap still wakes us,
        # because notify() reaches this loop only once we await.
        events, finished = queue.events_since(item, sent)
        for name, data in events:
            yield f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
        sent += len(events)
        if finished:
            return
        if not await changes.wait(keepalive):
            yield b": keep-alive\n\n"
