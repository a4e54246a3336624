"""The CI entry point runs the README's test command strictly."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ci_run_is_strict_and_runs_make_test() -> None:
    """`.ci/run` is an executable bash script with strict mode that calls `make test`."""
    script = ROOT / ".ci" / "run"
    text = script.read_text()
    assert os.access(script, os.X_OK)
    assert text.startswith("#!/usr/bin/env bash")
    assert "set -euo pipefail" in text
    assert "make test" in text


def test_makefile_has_the_documented_targets() -> None:
    """Every target the README promises exists (make -n resolves it without running it)."""
    for target in ("test", "demo", "plugin", "install", "uninstall"):
        result = subprocess.run(
            ["make", "-n", "-C", str(ROOT), target], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
