"""Fixtures for the real-Krita tests: Krita 5 and Krita 6 installed, a home with the plugin for
each, the real engine. Every test that takes `real_krita` runs once in each Krita."""

from __future__ import annotations

import builtins
import importlib.util
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "packaging"))  # the Krita harness ships with the demo

import krita6_root  # noqa: E402
from build_plugin_zip import build_zip  # noqa: E402
from demo import EngineProcess  # noqa: E402
from demo import start_engine as start_demo_engine  # noqa: E402
from krita_harness import ARTIFACTS, REPO, KritaHome, make_home  # noqa: E402
from krita_system import (  # noqa: E402
    ENGINE_START_TIMEOUT,
    install_system_packages,
    missing_system_packages,
)


def start_engine(argv: list[str]) -> EngineProcess:
    """The real engine server, started as `make demo` starts it."""
    return start_demo_engine(argv, ENGINE_START_TIMEOUT)


@dataclass(frozen=True)
class RealKrita:
    """One installed Krita: how to run its programs and where its own files are."""

    name: str  # "krita5" or "krita6", in test ids and artifact names
    command: Callable[[list[str]], list[str]]  # a Krita program's argv as this machine runs it
    share: Path  # its /usr/share/krita (action files)
    # krita_scenarios in the whole Krita through the sv_scenario_runner helper plugin, not in
    # kritarunner: Krita 6's kritarunner cannot show a main window (see that plugin).
    scenarios_in_gui: bool

    @property
    def scenarios(self) -> list[str]:
        """The command that runs krita_scenarios.main with facts to $SV_RESULTS."""
        if self.scenarios_in_gui:
            return self.command(["krita", "--nosplash"])
        return self.command(["kritarunner", "-s", "krita_scenarios", "-f", "main"])


@pytest.fixture(scope="session", params=["krita5", "krita6"])
def real_krita(request: pytest.FixtureRequest) -> RealKrita:
    """Debian's Krita 5.1 here, and Krita 6 from Debian experimental in its own root (built once
    per machine, then cached): installed if missing, never skipped. Xvfb and xdotool are this
    machine's for both, so the tests drive either Krita alike."""
    missing = missing_system_packages()
    if missing:
        problem = install_system_packages(missing)
        if problem:
            pytest.fail(problem)
    if request.param == "krita5":
        return RealKrita("krita5", list, Path("/usr/share/krita"), scenarios_in_gui=False)
    problem = krita6_root.why_not_buildable()
    if problem:
        pytest.fail(f"real Krita 6 tests: {problem}")
    krita6_root.build(ARTIFACTS / "krita6-root.log")  # its time shows in pytest --durations
    share = krita6_root.ROOT / "usr" / "share" / "krita"
    return RealKrita("krita6", krita6_root.command, share, scenarios_in_gui=True)


@pytest.fixture(scope="session")
def plugin_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dist/sketch_variants.zip as `make plugin` builds it (the same bytes every build)."""
    out = tmp_path_factory.mktemp("dist") / "sketch_variants.zip"
    build_zip(out)
    return out


def home_with_the_zip(real_krita: RealKrita, plugin_zip: Path, root: Path) -> KritaHome:
    """A fresh home set up by the project's installer (kritarc, plugin enabled), whose plugin files
    are then what this Krita's own importer (Tools > Scripts > Import Python Plugin from File)
    takes from the zip: both Kritas run the one zip an artist downloads."""
    home = make_home(root)
    assert "enable_sketch_variants=true" in home.kritarc.read_text()
    importer = real_krita.share / "pykrita" / "plugin_importer" / "plugin_importer.py"
    spec = importlib.util.spec_from_file_location(f"plugin_importer_{real_krita.name}", importer)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Krita 6's importer takes i18n from the builtins Krita's own Python gets.
    with mock.patch.object(builtins, "i18n", str, create=True):
        spec.loader.exec_module(module)
    # The importer asks before it replaces a plugin (the installer's copy): yes.
    imported = module.PluginImporter(str(plugin_zip), str(home.pykrita.parent), lambda _: True)
    assert [plugin["name"] for plugin in imported.import_all()] == ["sketch_variants"]
    return home


@pytest.fixture(scope="session")
def krita_home(
    real_krita: RealKrita, plugin_zip: Path, tmp_path_factory: pytest.TempPathFactory
) -> KritaHome:
    """A fresh home with the plugin zip imported, for one Krita."""
    root = tmp_path_factory.mktemp(f"{real_krita.name}-home")
    home = home_with_the_zip(real_krita, plugin_zip, root)
    if real_krita.scenarios_in_gui:
        add_helper_plugin(home, "sv_scenario_runner")
    return home


def add_helper_plugin(home: KritaHome, name: str) -> None:
    """Put one of tests/krita/gui_driver's helper plugins into `home`, enabled."""
    source = HERE / "gui_driver"
    shutil.copy(source / f"{name}.desktop", home.pykrita)
    shutil.copytree(source / name, home.pykrita / name)
    text = home.kritarc.read_text(encoding="utf-8")
    home.kritarc.write_text(
        text.replace("[python]\n", f"[python]\nenable_{name}=true\n"), encoding="utf-8"
    )


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
