"""What the plugin, server and packaging tests share: the one fake engine and its serve process."""

from pathlib import Path

# `python FAKE_SERVE --token-file PATH [--hold] [--open-files N]`: the real server around the
# FakeEngine in a process of its own, started and stopped like `python -m engine serve`.
FAKE_SERVE = Path(__file__).resolve().parent / "fake_serve.py"
