"""A training's state on disk beside its drawings and checkpoints, so a restart finds it again.

Each training folder holds `training.json`: what was asked (name, from, steps, drawings, stages)
and where it stood (queued, running, cancelled, failed), rewritten atomically at each change.
After any restart, a clean one or kill -9, the server lists every training it finds: a queued or
running one waits again and goes on from its last checkpoint, a cancelled or failed one stays
listed to resume. Trainings left cancelled or failed for ABANDONED_AFTER are deleted, as are
folders a crash left without a record.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engine.models_store import ModelStore
from engine.server.work import FINISHED, State

log = logging.getLogger("engine.server")

RECORD_FILE = "training.json"
ABANDONED_AFTER = 30 * 24 * 3600.0  # seconds a cancelled or failed training is kept to resume
UNRECORDED_AFTER = 24 * 3600.0  # seconds before a folder without a record counts as a crash's


def write_record(folder: Path, fields: dict[str, Any]) -> None:
    """Write a training's record into its folder: a new file, then one rename."""
    staged = folder / f"{RECORD_FILE}.new"
    staged.write_text(json.dumps({**fields, "updated": time.time()}, indent=2) + "\n")
    os.replace(staged, folder / RECORD_FILE)


def read_records(store: ModelStore, now: float | None = None) -> Iterator[tuple[Path, dict]]:
    """Every training folder's record, oldest first, after deleting abandoned folders."""
    now = time.time() if now is None else now
    if not store.trainings_dir.is_dir():
        return
    records = []
    for folder in store.trainings_dir.iterdir():
        record = _read(folder / RECORD_FILE)
        age = now - (record or {}).get("updated", folder.stat().st_mtime)
        finished = record is not None and record.get("state") in FINISHED
        if (record is None and age > UNRECORDED_AFTER) or (finished and age > ABANDONED_AFTER):
            log.info("deleting abandoned training folder %s", folder)
            shutil.rmtree(folder, ignore_errors=True)
        elif record is not None:
            records.append((folder, record))
    yield from sorted(records, key=lambda pair: pair[1].get("created", 0.0))


def record_owner(folder: Path) -> str | None:
    """The id of the training whose folder this is, by its record (None without one)."""
    record = _read(folder / RECORD_FILE)
    return None if record is None else record.get("id")


def restored_state(record: dict) -> State:
    """The state a restarted server gives a recorded training: running ones wait again."""
    state = State(record["state"])
    return State.QUEUED if state == State.RUNNING else state


def _read(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("state") in set(State) else None
