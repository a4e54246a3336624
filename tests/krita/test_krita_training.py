"""In real Krita 5 and 6 (under Xvfb) with no engine running: the training dialog's Start starts a
real engine as Generate does, two selected layers train a model through the docker's code path,
the model appears in its picker, and the engine stops when Krita quits."""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import RealKrita
from engine_broker import EngineBroker
from krita_harness import ARTIFACTS, KritaHome, run_krita
from krita_harness import HERE as PACKAGING
from krita_system import HERE


@pytest.fixture(scope="module")
def training_engine(
    real_krita: RealKrita, tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    """The tiny real model, served with trainings into a private data folder whenever the
    plugin runs its engine command (the broker's); one per Krita, since each trains a model of
    the same name."""
    folder = tmp_path_factory.mktemp(f"training-engine-{real_krita.name}")
    token = folder / "t"
    token.write_text(secrets.token_urlsafe(32))
    token.chmod(0o600)
    command = [sys.executable, str(HERE / "training_serve.py"), "--token-file", str(token)]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    broker = EngineBroker(
        [*command, "--model", str(tiny_model_dir), "--data", str(folder)],
        ARTIFACTS / "training-engine.log",
    )
    try:
        yield broker, token.read_text(), folder
    finally:
        broker.close()


@pytest.fixture(scope="module")
def facts(
    real_krita: RealKrita, krita_home: KritaHome, training_engine: Any, tmp_path_factory
) -> dict:
    """Run the training scenario inside Krita and read what it observed."""
    broker, token, _ = training_engine
    started, stopped = broker.started, broker.stopped
    results = tmp_path_factory.mktemp("scenarios-training") / "results.json"
    run = run_krita(
        krita_home,
        real_krita.scenarios,
        timeout=420,
        log_name=f"scenarios-training-{real_krita.name}.log",
        PYTHONPATH=os.pathsep.join([str(HERE), str(PACKAGING)]),
        SV_RESULTS=str(results),
        SV_SCENARIOS="train",
        SV_SERVER_URL="",  # no engine address: the plugin starts its own
        SV_ENGINE_COMMAND=broker.command,
        SV_TOKEN=token,
        SV_COUNT="2",
        SV_STEPS="4",
        SV_RADIUS="3",
    )
    assert results.exists(), f"Krita wrote no results:\n{run.stderr[-3000:]}"
    data = json.loads(results.read_text())
    assert "error" not in data["train"], data["train"]["error"]
    deadline = time.monotonic() + 30  # the broker notices the launcher's exit on its own thread
    while broker.stopped == stopped and time.monotonic() < deadline:
        time.sleep(0.1)
    return {
        **data["train"],
        "engines_started": broker.started - started,
        "engines_stopped": broker.stopped - stopped,
    }


def test_train_with_no_engine_running_starts_one_and_krita_quitting_stops_it(facts: dict) -> None:
    assert facts["status_before"] == "not connected"
    statuses = facts["statuses"]
    assert "starting" in statuses and statuses.index("starting") < statuses.index("connected")
    assert "waiting for the engine…" in facts["progress_shown"]  # while it starts
    assert facts["engines_started"] == 1 and facts["engines_stopped"] == 1


def test_two_selected_layers_train_a_model_that_appears_in_the_picker(
    facts: dict, training_engine: Any
) -> None:
    assert sorted(facts["selected"]) == ["drawing one", "drawing two"]
    assert facts["message"] == "Model 'krita test' is ready: pick it in the model list."
    assert facts["progress_seen"] and facts["total"] > 0
    assert facts["picker_before"] == ["default"]
    assert facts["picker_after"] == ["default", "krita test"]
    _, _, folder = training_engine
    provenance = json.loads((folder / "models" / "krita test" / "config.json").read_text())
    assert provenance["provenance"]["training"]["drawings"] == 2
