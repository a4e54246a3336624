"""Where Sketch Variants keeps its files on the user's machine (XDG layout on Linux)."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "sketch-variants"
# The weights shipped in the repository, used when no other model is named.
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "weights" / "default"


def _xdg(variable: str, fallback: str) -> Path:
    base = os.environ.get(variable)
    return (Path(base) if base else Path.home() / fallback) / APP_NAME


def user_data_dir() -> Path:
    """The engine's own data folder: installed environment, user-trained models, job files."""
    return _xdg("XDG_DATA_HOME", ".local/share")


def user_config_dir() -> Path:
    """The engine's configuration folder, home of the server's access token."""
    return _xdg("XDG_CONFIG_HOME", ".config")


def default_token_file() -> Path:
    """Where the server keeps its bearer token unless told otherwise."""
    return user_config_dir() / "token"
