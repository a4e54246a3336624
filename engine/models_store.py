"""The engine's model folders: the shipped model, the artist's trained ones, and training folders.

Everything an artist sends to be trained on is written under one root (the engine's data folder):
`models/<name>/` holds finished models, `trainings/<id>/` a training's drawings and checkpoints.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import EngineError
from engine.paths import DEFAULT_MODEL_DIR, user_data_dir
from engine.weights import CONFIG_FILE, DEFAULT_MODEL_NAME, ModelEntry, list_models

# Letters, digits, spaces, '.', '_' and '-', starting and ending with a letter or digit: never
# a path ('/', '\\', '..'), never hidden, never a trailing dot or space (Windows refuses those).
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 ._-]{0,46}[A-Za-z0-9])?")
NAME_RULE = (
    "1 to 48 letters, digits, spaces, '.', '_' or '-', starting and ending with a letter or digit"
)
CHECKPOINT_DIR = "checkpoint"  # engine.trainer's resumable state inside a stage's folder
# Names Windows keeps for devices, in any case and with any extension ("con.v2", "Aux"): a folder
# called so cannot be made there, and a model trained on Linux must move to an artist's Windows.
# What stored models and training folders may take together on the artist's disk: some 500 models
# (7.6 MB each), or a few dozen trainings of 2,000 drawings of 200 KB (0.4 GB each with their
# checkpoints); a training past it is refused with what to delete.
DISK_BUDGET = 20 * 2**30
# What a training writes beside its drawings: checkpoints and the partial model (33-49 MB for the
# shipped model's two stages), reserved when it is accepted.
TRAINING_ROOM = 64 * 2**20
_RESERVED = re.compile(r"(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?", re.IGNORECASE)


def check_model_name(name: str) -> str:
    """`name` if it can name a model folder; EngineError saying what a name may hold otherwise."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise EngineError(f"model name {str(name)[:60]!r} is not allowed: use {NAME_RULE}")
    if name.lower() == DEFAULT_MODEL_NAME:
        raise EngineError(f"{name!r} is the shipped model's name: pick another name")
    if _RESERVED.fullmatch(name):
        raise EngineError(f"{name!r} is a name Windows keeps for a device: pick another name")
    return name


def same_name(first: str, second: str) -> bool:
    """Whether two model names would name one folder on Windows and macOS (case-insensitive)."""
    return first.casefold() == second.casefold()


@dataclass(frozen=True)
class ModelStore:
    """Model and training folders under one root; the shipped model is read-only."""

    root: Path  # the engine's data folder (engine.paths.user_data_dir() when serving)
    default_dir: Path = DEFAULT_MODEL_DIR  # the model called "default"
    disk_budget: int = DISK_BUDGET  # bytes models and trainings may take together

    @classmethod
    def for_user(cls, default_dir: Path | None = None) -> ModelStore:
        """The store in the user's engine data folder."""
        return cls(user_data_dir(), default_dir or DEFAULT_MODEL_DIR)

    @property
    def models_dir(self) -> Path:
        """Finished models, one folder each (what engine.weights.list_models reads)."""
        return self.root / "models"

    @property
    def trainings_dir(self) -> Path:
        """Trainings' drawings and checkpoints, one folder per training id."""
        return self.root / "trainings"

    def used_bytes(self) -> int:
        """Bytes the stored models and training folders take."""
        folders = (self.models_dir, self.trainings_dir)
        return sum(f.stat().st_size for d in folders for f in d.rglob("*") if f.is_file())

    def check_disk(self, incoming: int) -> None:
        """DiskFull if writing `incoming` more bytes would pass the budget or fill the disk."""
        used = self.used_bytes()
        if used + incoming > self.disk_budget:
            raise DiskFull(
                f"trained models and trainings take {used / 2**30:.1f} GB of the "
                f"{self.disk_budget / 2**30:.1f} GB they may use, and this needs "
                f"{incoming / 2**20:.0f} MB more: delete models you no longer use, then try again"
            )
        existing = next(folder for folder in (self.root, *self.root.parents) if folder.exists())
        free = shutil.disk_usage(existing).free
        if incoming > free:
            raise DiskFull(
                f"the disk of {self.root} has {free / 2**20:.0f} MB free and this needs "
                f"{incoming / 2**20:.0f} MB: free some space, then try again"
            )

    def entries(self) -> list[ModelEntry]:
        """The shipped model first, then the trained ones by name."""
        entries = list_models(self.models_dir)
        return [ModelEntry(DEFAULT_MODEL_NAME, self.default_dir), *entries[1:]]

    def taken(self, name: str) -> str | None:
        """The stored model's name that `name` would collide with on any file system, if any."""
        return next((e.name for e in self.entries() if same_name(e.name, name)), None)

    def resolve(self, name: str) -> Path:
        """The folder of the model called `name`; EngineError naming the known ones otherwise."""
        for entry in self.entries():
            if entry.name == name:
                return entry.path
        known = ", ".join(entry.name for entry in self.entries())
        raise EngineError(f"unknown model {str(name)[:60]!r}: the models are {known}")

    def describe(self) -> list[dict[str, Any]]:
        """Every model with where it came from (its config.json's provenance)."""
        described = []
        for entry in self.entries():
            try:
                document = json.loads((entry.path / CONFIG_FILE).read_text())
                provenance = document.get("provenance")
            except (OSError, ValueError):
                provenance = None
            described.append(
                {
                    "name": entry.name,
                    "path": str(entry.path),
                    "shipped": entry.name == DEFAULT_MODEL_NAME,
                    "provenance": provenance if isinstance(provenance, dict) else None,
                }
            )
        return described

    def delete(self, name: str) -> None:
        """Remove a trained model's folder; EngineError for the shipped model or an unknown one."""
        if name == DEFAULT_MODEL_NAME:
            raise EngineError("the shipped model cannot be deleted")
        folder = self.resolve(name)
        shutil.rmtree(folder)

    def training_dir(self, training_id: str) -> Path:
        """The folder of one training (its drawings, its partial model and checkpoints)."""
        return self.trainings_dir / training_id

    def install(self, model_dir: Path, name: str, training: dict[str, Any]) -> Path:
        """Move a trained model folder into models/<name>, without its checkpoints.

        training: what the artist asked for (name, drawings, steps, from), added to provenance.
        """
        target = self.models_dir / check_model_name(name)
        existing = self.taken(name)
        if existing is not None or target.exists():
            raise EngineError(
                f"a model named {existing or name!r} exists: delete it or pick another name"
            )
        for checkpoint in Path(model_dir).rglob(CHECKPOINT_DIR):
            shutil.rmtree(checkpoint)
        config_path = Path(model_dir) / CONFIG_FILE
        document = json.loads(config_path.read_text())
        # Only the provenance changes: the sha256 covers the weights file, which stays as it is.
        document["provenance"] = {**document.get("provenance", {}), "training": training}
        config_path.write_text(json.dumps(document, indent=2) + "\n")
        self.models_dir.mkdir(parents=True, exist_ok=True)
        return Path(shutil.move(str(model_dir), str(target)))


class DiskFull(EngineError):
    """Stored models and trainings would pass their disk budget, or the disk is full."""
