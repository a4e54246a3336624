"""Helpers for the plugin tests: Qt event waiting, fake documents, a served fake engine."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

import fake_krita
from sketch_variants.qt import QEventLoop, QTimer
from sketch_variants.settings import GROUP

from engine.server.app import EngineServer
from tests.fakes.fake_engine import FakeEngine


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    """Run Qt's event loop until `predicate()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    loop = QEventLoop()
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        QTimer.singleShot(10, loop.quit)
        loop.exec()


def spin(milliseconds: int) -> None:
    """Let Qt deliver events for a while (to show that something does NOT happen)."""
    loop = QEventLoop()
    QTimer.singleShot(milliseconds, loop.quit)
    loop.exec()


class Served:
    """A running engine server and the fake engine behind it."""

    def __init__(self, engine: FakeEngine) -> None:
        self.engine = engine
        self.token = secrets.token_urlsafe(12)
        self.server = EngineServer(engine, token=self.token)
        self.server.start()
        self.url = self.server.url


def configure(krita: fake_krita.Krita, **values: Any) -> None:
    """Write plugin settings into the fake kritarc."""
    for key, value in values.items():
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        krita.writeSetting(GROUP, key, text)


def sketch_document(
    krita: fake_krita.Krita,
    name: str = "eye sketch",
    box: tuple[int, int, int, int] = (8, 6, 10, 7),
) -> tuple[fake_krita.Document, fake_krita.Node]:
    """A 40x30 document with one paint layer holding a dark rectangle (BGRA) at `box`."""
    document = fake_krita.Document(40, 30)
    node = document.createNode(name, "paintlayer")
    document.rootNode().addChildNode(node, None)
    paint(node, box, (10, 20, 200, 255))
    document.setActiveNode(node)
    krita.add_document(document, [node])
    return document, node


def paint(node: fake_krita.Node, box: tuple[int, int, int, int], bgra: tuple[int, ...]) -> None:
    """Fill a rectangle of a layer with one BGRA colour."""
    x, y, w, h = box
    node.setPixelData(bytes(bgra) * (w * h), x, y, w, h)
