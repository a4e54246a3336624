"""Fixtures for the real-Krita tests: Krita installed, a home with the plugin, the real engine."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from krita_harness import (  # noqa: E402
    REPO,
    KritaHome,
    install_system_packages,
    make_home,
    missing_system_packages,
    start_engine,
    stop_process,
)


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
    folder = tmp_path_factory.mktemp("engine")
    process, url = start_engine(model, folder / "token", folder / "engine.log")
    try:
        yield Engine(url=url, token=(folder / "token").read_text().strip(), model=model)
    finally:
        stop_process(process)
