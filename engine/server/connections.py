"""Uvicorn's HTTP/1.1 (h11) protocol with a cap on open connections and on time without a request.

Idle clients must never starve others: without a cap about a thousand silent connections used up
the process's file descriptors and health stopped answering. Here a new connection beyond the cap
closes the connection that has been idle longest, and a connection that has no request in progress
(none sent yet, or its headers still dribbling in) is closed after the configured header timeout.

Why a subclass of uvicorn's private H11Protocol, and uvicorn pinned to the minor release it was
tested with (pyproject.toml): uvicorn has no public way to do either. Its `limit_concurrency`
answers 503 to the newest client instead of closing an idle one, and its `timeout_keep_alive`
starts only after a first answer, so a client that never finishes its headers holds its socket
for ever. A subclass is a few dozen lines against the alternative, a protocol of our own on h11.
tests/server/test_uvicorn_surface.py fails when what this module uses of H11Protocol changes.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

# Orders connections by their last activity; a counter, so two never tie.
_activity = itertools.count()
_TCP_FAMILIES = (socket.AF_INET, socket.AF_INET6)
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)  # Linux only


def connection_cap(limit: int) -> int:
    """Open connections to allow: `limit`, or half the process's file descriptors if fewer.

    The other half stays for the model's files, the log and the listening socket, so accepting a
    connection never fails for want of a descriptor.
    """
    try:
        import resource  # POSIX only
    except ImportError:
        return limit
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return limit
    return max(8, min(limit, soft // 2))


def accept_backlog(max_connections: int) -> int:
    """The listen backlog, which asyncio also uses as the most connections accepted at once.

    Connections accepted in one go exist before any of them can close an idle one, so the batch
    must fit in the descriptors the cap leaves free.
    """
    return max(8, min(64, max_connections // 2))


def capped_protocol(max_connections: int, header_timeout: float) -> type[H11Protocol]:
    """The protocol class for a server holding at most `max_connections` connections."""
    limits = {"max_connections": max_connections, "header_timeout": header_timeout}
    return type("CappedH11Protocol", (CappedH11Protocol,), limits)


class CappedH11Protocol(H11Protocol):
    """One HTTP/1.1 connection that gives way to newer ones when idle and the server is full."""

    max_connections: int  # set by capped_protocol()
    header_timeout: float  # seconds a connection may stay open without a request in progress

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        self._tcp = sock if sock is not None and sock.family in _TCP_FAMILIES else None
        if self._tcp is not None:
            # An answer goes out as two writes, head then body; with Nagle's algorithm on, the
            # body waits for the client to acknowledge the head, which it delays by up to 40 ms.
            # asyncio turns Nagle off only for sockets made with IPPROTO_TCP, which an accepted
            # socket of a plain SOCK_STREAM listener is not.
            self._tcp.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._acknowledge_at_once()
        super().connection_made(transport)
        self.last_active = next(_activity)
        self._deadline: asyncio.TimerHandle | None = None
        if len(self.connections) > self.max_connections:
            self._make_room()
        self._arm_deadline()

    def data_received(self, data: bytes) -> None:
        self._acknowledge_at_once()  # for the next segment: the kernel leaves quick mode by itself
        self.last_active = next(_activity)
        super().data_received(data)

    def on_response_complete(self) -> None:
        self.last_active = next(_activity)
        super().on_response_complete()
        self._arm_deadline()

    # asyncio's Protocol.eof_received may return True (keep the transport half open); uvicorn
    # annotates its own as returning None.
    def eof_received(self) -> bool | None:  # type: ignore[override]
        """The client closed its sending side: answer what it sent instead of dropping it."""
        if self.idle:
            return None  # nothing to answer: close
        if self.cycle.more_body:
            # The body ended before its Content-Length: h11 turns the EOF into a 400 answer.
            self.conn.receive_data(b"")
            self.handle_events()
        return True  # keep the sending side open for the answer

    def send_400_response(self, msg: str) -> None:
        """h11 found the request malformed (a bad chunk, a short body): answer 400 and close."""
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            # The app may be handling this request: its own answer must not follow the 400.
            cycle.disconnected = True
            cycle.message_event.set()
            if cycle.response_started:
                self.transport.close()
                return
        super().send_400_response(msg)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        super().connection_lost(exc)

    def _acknowledge_at_once(self) -> None:
        # Qt (the plugin's client) sends a POST's head and body as two writes with Nagle on, so
        # the body waits for our acknowledgement of the head, which Linux delays by up to 40 ms:
        # each job's submit took that long. Quick acknowledgements are Linux's; elsewhere the
        # delay stays.
        if self._tcp is not None and _QUICKACK is not None:
            self._tcp.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)

    @property
    def idle(self) -> bool:
        """True when no request is in progress: none yet, or the last one answered."""
        return self.cycle is None or self.cycle.response_complete

    def _make_room(self) -> None:
        # Connections already closing still count until asyncio reports them lost: skip them.
        others: list[Any] = [
            c for c in self.connections if c is not self and not c.transport.is_closing()
        ]
        if len(others) < self.max_connections:
            return
        idle = [c for c in others if getattr(c, "idle", False)]
        if idle:
            min(idle, key=lambda connection: connection.last_active).transport.close()
        else:  # every other connection is busy with a request: this one waits its turn elsewhere
            self.transport.close()

    def _arm_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(self.header_timeout, self._deadline_passed)

    def _deadline_passed(self) -> None:
        if self.idle and not self.transport.is_closing():
            self.transport.close()
