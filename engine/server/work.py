"""The server's one work queue: FIFO items run by worker threads, with states, events, cancel and a
bounded history. Generation jobs and trainings are its two payloads (engine.server.jobs and
engine.server.trainings); what runs an item is a callable the queue is given, never an engine.
"""

from __future__ import annotations

import collections
import enum
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from engine.errors import Cancelled, EngineError

log = logging.getLogger("engine.server")

CANCELLED_MESSAGE = "cancelled"
SHUTDOWN_MESSAGE = "cancelled: the server is shutting down"


class State(enum.StrEnum):
    """Where an item stands; the values are the API's."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


STATES = tuple(state.value for state in State)
FINISHED = frozenset({State.DONE, State.FAILED, State.CANCELLED})

Event = tuple[str, dict[str, Any]]  # (name, JSON-ready data), as a Server-Sent Event sends it


class QueueFull(Exception):
    """The queue holds its maximum of waiting items."""


class QueueClosed(Exception):
    """The server is shutting down and takes no more work."""


class Conflict(EngineError):
    """The item clashes with one the server has (a model's name): the message says which."""


def one_line(message: object, limit: int = 300) -> str:
    """A message squeezed onto one line of bounded length, for error answers."""
    text = " ".join(str(message).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class QueueLimits:
    """How much one queue holds: waiting items, their inputs, and finished ones remembered."""

    waiting: int  # items waiting to run at most (429 beyond)
    waiting_bytes: int | None = None  # their inputs' bytes at most (429 beyond); None: unbounded
    history: int = 64  # finished items remembered (with their results); older ones are forgotten
    kept_bytes: int | None = None  # finished items' results' bytes at most; None: unbounded
    workers: int = 1  # items run at once, each on a worker thread of its own


@dataclass(eq=False)
class WorkItem:
    """One piece of work: its state, error and events; a payload subclass adds the rest."""

    # Words for the queue's answers: "the queue is full (4 trainings waiting)".
    noun: ClassVar[str] = "item"
    inputs: ClassVar[str] = "inputs"
    # Whether the story starts with a `queued` state event, or at `running`.
    queued_event: ClassVar[bool] = True

    id: str = field(default_factory=lambda: uuid.uuid4().hex, kw_only=True)
    state: State = field(default=State.QUEUED, kw_only=True)
    error: str | None = field(default=None, kw_only=True)  # one line, when failed or cancelled
    cancel_requested: bool = field(default=False, kw_only=True)
    # The error once a running item stops for a cancel (a waiting one ends "cancelled"); a
    # payload or a cancel with a reason (a superseded live job) changes it.
    cancel_reason: str = field(default=CANCELLED_MESSAGE, kw_only=True)
    # Every event since creation, so a late subscriber replays the whole story.
    events: list[Event] = field(default_factory=list, repr=False, kw_only=True)

    def status(self) -> dict[str, Any]:
        """The item's public state as JSON-ready values (the data of its `state` events)."""
        return {
            "id": self.id,
            "state": self.state.value,
            "error": self.error,
            "cancel_requested": self.cancel_requested,
        }

    @property
    def input_bytes(self) -> int:
        """Bytes its inputs hold while it waits (counted against QueueLimits.waiting_bytes)."""
        return 0

    @property
    def kept_bytes(self) -> int:
        """Bytes its result holds once finished (counted against QueueLimits.kept_bytes)."""
        return 0

    def ended(self, state: State, result: Any) -> None:
        """Called as the item finishes, before its final event; result: what its run returned
        when done, else None. The queue's lock is held: no waiting here."""

    def forgotten(self) -> None:
        """Called when the history lets the finished item go."""


Item = TypeVar("Item", bound=WorkItem)
# Runs one item of the queue to its end and returns its result; raises Cancelled when it stopped
# for a cancel (it polls queue.should_stop(item)), EngineError for a one-line failure; any other
# exception is a bug, logged. It reports progress with queue.emit().
Runner = Callable[[Item, "WorkQueue[Item]"], Any]


class WorkQueue(Generic[Item]):
    """Items in FIFO order run by `limits.workers` threads; cancel, events, bounded history."""

    def __init__(self, run: Runner[Item], limits: QueueLimits, name: str = "engine-work") -> None:
        self._run = run
        self._limits = limits
        self._listeners: list[Callable[[], None]] = []
        # Reentrant: a submit's admit() and listeners may call back into the queue.
        self._lock = threading.RLock()
        # One condition for every change: waiters re-check their own item, which is cheap.
        self._changed = threading.Condition(self._lock)
        self._items: dict[str, Item] = {}
        self._waiting: collections.deque[Item] = collections.deque()
        self._finished: collections.deque[str] = collections.deque()
        self._running: list[Item] = []
        self._closed = False
        self._workers = [
            threading.Thread(target=self._work, name=f"{name}-{number}", daemon=True)
            for number in range(limits.workers)
        ]

    @property
    def closed(self) -> bool:
        """True once close() was called."""
        return self._closed

    def start(self) -> None:
        """Start the worker threads."""
        for worker in self._workers:
            worker.start()

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener()` (with the queue's lock held: it must not block) on every change."""
        with self._lock:
            self._listeners.append(listener)

    def submit(self, item: Item, admit: Callable[[], None] | None = None) -> Item:
        """Queue an item; QueueFull or QueueClosed when it cannot be taken.

        admit(): the payload's own checks and preparation, run under the queue's lock before
        the room is checked (so they are atomic with the submission); it may raise to refuse.
        """
        with self._lock:
            if self._closed:
                raise QueueClosed("the server is shutting down")
            if admit is not None:
                admit()
            self.check_room(item)
            self._items[item.id] = item
            self._waiting.append(item)
            if item.queued_event:
                self.emit(item, "state", item.status())
            else:
                self._notify()
        return item

    def restore(self, item: Item) -> None:
        """Take back an item a restarted server found on disk, in its state: a finished one into
        the history, an unfinished one to wait again (before any room check: it had its room)."""
        with self._lock:
            self._items[item.id] = item
            if item.state in FINISHED:
                self._finished.append(item.id)
            else:
                item.state = State.QUEUED
                self._waiting.append(item)
            self.emit(item, "state", item.status())

    def forget(self, item_id: str) -> Item | None:
        """Forget a finished item now, as the history would later; None if unknown.

        Conflict if it has not finished: it must be cancelled first."""
        with self._lock:
            item = self._items.get(item_id)
            if item is None:
                return None
            if item.state not in FINISHED:
                raise Conflict(f"this {item.noun} is {item.state.value}: cancel it first")
            del self._items[item_id]
            self._finished.remove(item_id)
            item.forgotten()
            self._notify()
            return item

    def get(self, item_id: str) -> Item | None:
        """The item with this id, or None if unknown or forgotten."""
        with self._lock:
            return self._items.get(item_id)

    def items(self) -> list[Item]:
        """All remembered items, oldest first."""
        with self._lock:
            return list(self._items.values())

    def check_room(self, item: Item) -> None:
        """QueueFull if `item` would not fit among the waiting ones."""
        with self._lock:
            limits = self._limits
            if len(self._waiting) >= limits.waiting:
                raise QueueFull(
                    f"the queue is full ({limits.waiting} {item.noun}s waiting): retry later"
                )
            waiting = sum(queued.input_bytes for queued in self._waiting)
            over = (
                limits.waiting_bytes is not None
                and waiting + item.input_bytes > limits.waiting_bytes
            )
            if self._waiting and over:  # the first waiting item is taken whatever its size
                megabytes = waiting / 2**20
                raise QueueFull(
                    f"the queue is full ({megabytes:.0f} MB of {item.inputs}): retry later"
                )

    def queued_count(self) -> int:
        """Number of items waiting (not counting running ones)."""
        with self._lock:
            return len(self._waiting)

    def running(self) -> Item | None:
        """The item running longest, if any."""
        with self._lock:
            return self._running[0] if self._running else None

    def busy(self) -> bool:
        """Whether any item runs or waits."""
        with self._lock:
            return bool(self._running or self._waiting)

    def cancel(self, item_id: str) -> Item | None:
        """Cancel an item: a waiting one at once, a running one at its next step; None: unknown."""
        with self._lock:
            item = self._items.get(item_id)
            if item is not None:
                self._cancel(item, None)
            return item

    def cancel_where(self, wanted: Callable[[Item], bool], reason: str) -> None:
        """Cancel every unfinished item `wanted` picks, with `reason` as its error."""
        with self._lock:
            for item in [*self._waiting, *self._running]:
                if wanted(item):
                    self._cancel(item, reason)

    def events_since(self, item: Item, start: int) -> tuple[list[Event], bool]:
        """Events of `item` from index `start` and whether the item has ended."""
        with self._lock:
            return item.events[start:], item.state in FINISHED

    def locked(self) -> threading.RLock:
        """The queue's lock, for changing an item's fields together with an event about them."""
        return self._lock

    def emit(self, item: Item, name: str, data: dict[str, Any]) -> None:
        """Add an event to the item's story and wake everyone following the queue."""
        with self._lock:
            item.events.append((name, data))
            self._notify()

    def should_stop(self, item: Item) -> bool:
        """Whether a running item is to stop at its next step (cancelled, or closing)."""
        return item.cancel_requested or self._closed

    def close(self, timeout: float | None = 10.0) -> None:
        """Cancel waiting items, stop running ones at their next step and end the workers."""
        with self._lock:
            self._closed = True
            while self._waiting:
                self._cancel(self._waiting[0], SHUTDOWN_MESSAGE)
            for item in self._running:
                item.cancel_requested = True
            self._notify()
        for worker in self._workers:
            if worker.is_alive():
                worker.join(timeout)
        with self._lock:
            for item in list(self._running):
                # The run did not stop in time: end the item now, so every event stream still
                # gets its final state; the worker's late result is dropped.
                self._running.remove(item)
                self._finish(item, State.CANCELLED, SHUTDOWN_MESSAGE, None)

    # ----- the workers -----

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._waiting and not self._closed:
                    self._changed.wait()
                if self._closed:
                    return
                item = self._waiting.popleft()
                item.state = State.RUNNING
                self._running.append(item)
                self.emit(item, "state", item.status())
            state, error, result = self._outcome(item)
            with self._lock:
                if item.state in FINISHED:  # close() ended it while the run went on
                    continue
                self._running.remove(item)
                self._finish(item, state, error, result)

    def _outcome(self, item: Item) -> tuple[State, str | None, Any]:
        try:
            result = self._run(item, self)
        except Cancelled:
            return State.CANCELLED, item.cancel_reason, None
        except EngineError as exc:
            return State.FAILED, one_line(exc), None
        except Exception as exc:  # a bug must fail this item only, never the worker
            log.exception("%s %s failed", item.noun, item.id)
            return State.FAILED, one_line(f"internal error: {type(exc).__name__}: {exc}"), None
        return State.DONE, None, result

    # ----- bookkeeping (callers hold the lock) -----

    def _cancel(self, item: Item, reason: str | None) -> None:
        # reason: the error instead of the item's own cancel_reason (None: keep that).
        if item.state in FINISHED:
            return
        if not item.cancel_requested:
            item.cancel_requested = True
            item.cancel_reason = reason or item.cancel_reason
        if item.state == State.QUEUED:
            self._waiting.remove(item)
            self._finish(item, State.CANCELLED, reason or CANCELLED_MESSAGE, None)
        self._notify()

    def _finish(self, item: Item, state: State, error: str | None, result: Any) -> None:
        item.state, item.error = state, error
        item.ended(state, result)
        self.emit(item, "state", item.status())
        self._finished.append(item.id)
        # Forget the oldest until both bounds hold, but always keep the item that just ended.
        limits = self._limits
        kept = sum(self._items[item_id].kept_bytes for item_id in self._finished)
        while len(self._finished) > 1 and (
            len(self._finished) > limits.history
            or (limits.kept_bytes is not None and kept > limits.kept_bytes)
        ):
            forgotten = self._items.pop(self._finished.popleft())
            kept -= forgotten.kept_bytes
            forgotten.forgotten()

    def _notify(self) -> None:
        self._changed.notify_all()
        for listener in self._listeners:
            listener()
