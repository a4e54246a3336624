"""A budget of bytes that threads share: each holds its share while it works, or waits for room.

The engine decodes images (sketches, drawings sent to be trained on, a training's folder) on many
threads at once; each decode holds the bytes it will peak at from engine.images.DECODES, so the
memory decoding takes has one bound however many requests arrive together.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class MemoryBudget:
    """At most `limit` bytes held at once; one holder larger than the limit runs alone."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0
        self._room = threading.Condition()

    @contextmanager
    def hold(self, amount: int) -> Iterator[None]:
        """Wait until `amount` bytes fit beside the others' (or nobody holds any), hold them
        inside the block."""
        with self._room:
            self._room.wait_for(lambda: self.held == 0 or self.held + amount <= self.limit)
            self.held += amount
        try:
            yield
        finally:
            with self._room:
                self.held -= amount
                self._room.notify_all()
