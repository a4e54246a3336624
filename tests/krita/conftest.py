"""Fixtures for the real-Krita tests: Krita installed, a home with the plugin, the real engine."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "packaging"))  # the Krita harness ships with the demo

from demo import EngineProcess  # noqa: E402
from demo import start_engine as start_demo_engine  # noqa: E402
from krita_harness import REPO, KritaHome, make_home  # noqa: E402
from krita_system import (  # noqa: E402
    ENGINE_START_TIMEOUT,
    install_system_packages,
    missing_system_packages,
)


def start_engine(argv: list[str]) -> EngineProcess:
    """The real engine server, started as `make demo` starts it."""
    return start_demo_engine(argv, ENGINE_START_TIMEOUT)


@pytest.fixture(scope="session")
def krita_installed() -> None:
    """Krita, kritarunner, Xvfb and xdotool present: installed here if missing; never skipped."""
    missing = missing_system_packages()
    if missing:
        problem = install_system_packages(missing)
        if problem:
            pytest.fail(problem)


@pytest.fixture(scope="session")
def krita_home(krita_installed: None, tmp_path_factory: pytest.TempPathFactory) -> KritaHome:
    """A fresh home with the plugin installed by the project's installer."""
    home = make_home(tmp_path_factory.mktemp("krita-home"))
    assert (home.pykrita / "sketch_variants" / "__init__.py").exists()
    assert "enable_sketch_variants=true" in home.kritarc.read_text()
    return home


@dataclass(frozen=True)
class Engine:
    """The real engine server started for the tests."""

    url: str
    token: str
    model: Path


def _model_dir(request: pytest.FixtureRequest) -> Path:
    """The shipped weights, or the repository's tiny real model while they are being trained."""
    shipped = REPO / "weights" / "default"
    if any(shipped.glob("*.json")):
        return shipped
    return Path(request.getfixturevalue("tiny_model_dir"))


@pytest.fixture(scope="session")
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """`python -m engine serve --port 0 --token-file ...` from this checkout."""
    model = _model_dir(request)
    token = tmp_path_factory.mktemp("engine") / "token"
    # The demo's launcher: the same wait for the ready line, output drained, SIGTERM at the end.
    command = [sys.executable, "-m", "engine", "serve", "--port", "0"]
    process = start_engine([*command, "--token-file", str(token), "--model", str(model)])
    try:
        yield Engine(url=process.url or "", token=token.read_text().strip(), model=model)
    finally:
        process.stop()
