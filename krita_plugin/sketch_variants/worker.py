"""Runs pure CPU work (PNG encoding and decoding) off Krita's main thread, results back on it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from .client import Guard, unguarded
from .qt import QObject, Signal


class Worker(QObject):
    """One background thread per task; `on_done` is called on the thread that owns the Worker."""

    # Emitted from the background thread; Qt queues it to the Worker's (main) thread.
    _finished = Signal(object, object, object)

    def __init__(self, parent: QObject | None = None, guard: Guard = unguarded) -> None:
        super().__init__(parent)
        self._guard = guard
        self._finished.connect(self._deliver)
        self._running: set[threading.Thread] = set()

    def run(
        self,
        work: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        """Run `work()` in a thread; call on_done(result) or on_error(exception) on this thread."""

        def body() -> None:
            try:
                result, error = work(), None
            except Exception as exception:  # noqa: BLE001 - handed to on_error on the main thread
                result, error = None, exception
            self._finished.emit((on_done, on_error), result, error)
            self._running.discard(thread)

        thread = threading.Thread(target=body, name="sketch-variants-worker", daemon=True)
        self._running.add(thread)
        thread.start()

    def _deliver(self, callbacks: tuple, result: Any, error: BaseException | None) -> None:
        on_done, on_error = callbacks
        if error is not None:
            self._guard(lambda: on_error(error))
        else:
            self._guard(lambda: on_done(result))
