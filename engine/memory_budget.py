"""A budget of bytes that threads share: each holds its share while it works, or waits for room.

The engine decodes images (sketches, drawings sent to be trained on, a training's folder) on many
threads at once; each decode holds the bytes it will peak at from engine.images.DECODES, so the
memory decoding takes has one bound however many requests arrive together.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None


_TRIM = _malloc_trim()  # glibc's; other C libraries return freed memory themselves or lack it


def give_back_memory() -> None:
    """Return the memory freed since to the system, where the C library would keep it.

    glibc keeps what a thread frees in that thread's arena: four threads decoding one after the
    other would each keep a decode's worth (900 MB measured for four 8192 px drawings, 516 MB
    with this after each decode).
    """
    if _TRIM is not None:
        _TRIM(0)


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
            give_back_memory()
            with self._room:
                self.held -= amount
                self._room.notify_all()
