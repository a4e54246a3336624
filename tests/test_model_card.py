"""The model card's table of shipped files and their sha256 matches the files themselves: the
card is how an artist or a studio checks the weights they downloaded."""

from __future__ import annotations

import re
from pathlib import Path

from engine.weights import sha256_of

WEIGHTS = Path(__file__).resolve().parents[1] / "weights"


def test_every_sha256_in_the_model_card_matches_its_file() -> None:
    card = (WEIGHTS / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([^`]+)`[^|]*\| `([0-9a-f]{64})` \|$", card, flags=re.MULTILINE)
    assert rows, "no file | sha256 table in weights/README.md"
    wrong = [name for name, digest in rows if sha256_of(WEIGHTS / name) != digest]
    assert not wrong, f"weights/README.md lists a stale sha256 for {wrong}: update its table"
