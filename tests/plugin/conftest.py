"""Fixtures: Qt offscreen, the fake `krita` module, and a real engine server with a fake engine."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["QT_QPA_PLATFORM"] = "offscreen"
PLUGIN_DIR = Path(__file__).resolve().parents[2] / "krita_plugin"
sys.path.insert(0, str(PLUGIN_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import fake_krita  # noqa: E402
from sketch_variants.qt import QtWidgets  # noqa: E402

sys.modules["krita"] = fake_krita  # before the plugin package is imported anywhere
APP = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])

from plugin_helpers import Served, configure  # noqa: E402
from sketch_variants.adapter import KritaHost  # noqa: E402
from sketch_variants.controller import Controller  # noqa: E402

from tests.fakes.fake_engine import FakeEngine  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Config and data folders of this test only: no real token or engine is ever touched."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path


@pytest.fixture
def krita() -> fake_krita.Krita:
    """A fresh fake Krita application."""
    return fake_krita.Krita.reset()


@pytest.fixture
def served() -> Iterator[Served]:
    """A real engine server on an ephemeral loopback port, with a fast fake engine."""
    running = Served(FakeEngine())
    yield running
    running.engine.release.set()
    running.server.close()


@pytest.fixture
def controller(krita: fake_krita.Krita, served: Served) -> Iterator[Controller]:
    """A controller talking to the served engine, reading and writing the fake Krita."""
    # Explicit steps (fast sampling off), so each test's jobs take a known, short number of them.
    configure(
        krita,
        server_url=served.url,
        token=served.token,
        count=3,
        radius=5,
        steps=4,
        fast_sampling=False,
    )
    made = Controller(KritaHost())
    yield made
    made.shutdown()
