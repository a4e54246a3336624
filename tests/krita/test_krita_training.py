"""In real Krita 5 and 6 (under Xvfb) with a real engine: two selected layers train a model
through the docker's code path (the dialog's Start), and the model appears in its picker."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import RealKrita, start_engine
from krita_harness import HERE as PACKAGING
from krita_harness import KritaHome, run_krita
from krita_system import HERE


@pytest.fixture(scope="module")
def training_engine(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The tiny real model served with training jobs into a private data folder."""
    folder = tmp_path_factory.mktemp("training-engine")
    command = [sys.executable, str(HERE / "training_serve.py"), "--token-file", str(folder / "t")]
    process = start_engine([*command, "--model", str(tiny_model_dir), "--data", str(folder)])
    try:
        yield process, (folder / "t").read_text().strip(), folder
    finally:
        process.stop()


@pytest.fixture(scope="module")
def facts(
    real_krita: RealKrita, krita_home: KritaHome, training_engine: Any, tmp_path_factory
) -> dict:
    """Run the training scenario inside Krita and read what it observed."""
    process, token, _ = training_engine
    results = tmp_path_factory.mktemp("scenarios-training") / "results.json"
    run = run_krita(
        krita_home,
        real_krita.scenarios,
        timeout=420,
        log_name=f"scenarios-training-{real_krita.name}.log",
        PYTHONPATH=os.pathsep.join([str(HERE), str(PACKAGING)]),
        SV_RESULTS=str(results),
        SV_SCENARIOS="train",
        SV_SERVER_URL=process.url or "",
        SV_TOKEN=token,
        SV_COUNT="2",
        SV_STEPS="4",
        SV_RADIUS="3",
    )
    assert results.exists(), f"Krita wrote no results:\n{run.stderr[-3000:]}"
    data = json.loads(results.read_text())
    assert "error" not in data["train"], data["train"]["error"]
    return data["train"]


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
