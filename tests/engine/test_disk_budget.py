"""Stored models and training folders have a disk budget: what would pass it is refused in one
line that says what to do."""

from __future__ import annotations

import shutil

import pytest

from engine.models_store import DiskFull, ModelStore


def test_the_budget_counts_models_and_trainings_and_refuses_what_would_pass_it(
    tmp_path, tiny_model_dir
):
    store = ModelStore(tmp_path / "data", default_dir=tiny_model_dir, disk_budget=2**30)
    assert store.used_bytes() == 0
    shutil.copytree(tiny_model_dir, store.models_dir / "ink")
    (store.trainings_dir / "abc" / "drawings").mkdir(parents=True)
    (store.trainings_dir / "abc" / "drawings" / "1.png").write_bytes(b"x" * 1000)
    model = sum(f.stat().st_size for f in tiny_model_dir.rglob("*") if f.is_file())
    assert store.used_bytes() == model + 1000

    roomy = ModelStore(store.root, tiny_model_dir, disk_budget=model + 1000 + 500)
    roomy.check_disk(500)
    with pytest.raises(DiskFull) as refused:
        roomy.check_disk(501)
    message = str(refused.value)
    assert message.startswith("trained models and trainings take 0.0 GB of the 0.0 GB they may use")
    assert message.endswith("delete models you no longer use, then try again")
    assert "\n" not in message


def test_a_disk_with_less_free_space_than_needed_is_refused(tmp_path, tiny_model_dir):
    store = ModelStore(tmp_path / "not yet made", default_dir=tiny_model_dir)
    free = shutil.disk_usage(tmp_path).free
    store = ModelStore(store.root, tiny_model_dir, disk_budget=2 * free + 2**31)
    with pytest.raises(DiskFull, match="MB free and this needs .* MB: free some space"):
        store.check_disk(free + 2**30)
