"""Engine.generate_batch: several requests stacked into one network call a step, each getting
what Engine.generate gives it alone."""

from __future__ import annotations

import numpy as np

from engine.errors import Cancelled, EngineError
from engine.request import DEFAULT_STRENGTH, GenerateRequest
from tests.conftest import draw_circle_sketch


def _requests() -> list[GenerateRequest]:
    ring = draw_circle_sketch(96, 80, 20)
    small = draw_circle_sketch(40, 50, 12)
    return [
        GenerateRequest(sketch=ring, seed=7, count=2, steps=3),
        GenerateRequest(sketch=small, seed=100, count=3, steps=3, radius=6, colour="#3a7bd5"),
        # Another mode from the same level (the mask's default strength): the same stack.
        GenerateRequest(
            sketch=ring, seed=9, count=1, steps=3, mode="sdedit", strength=DEFAULT_STRENGTH["mask"]
        ),
        GenerateRequest(sketch=small, seed=5, count=1, steps=2),  # another schedule: own stack
    ]


def test_each_request_gets_its_own_variants_as_from_generate(tiny_engine):
    requests = _requests()
    calls = []
    predict = tiny_engine._predict
    tiny_engine._predict = lambda images, *rest: calls.append(len(images)) or predict(images, *rest)
    try:
        batched = tiny_engine.generate_batch(requests)
    finally:
        tiny_engine._predict = predict
    # Three requests share 3 steps: one call of 6 variants a step; the 2-step one its own.
    assert calls == [6, 6, 6, 1, 1]
    for request, outcome in zip(requests, batched, strict=True):
        alone = tiny_engine.generate(request)
        assert [v.seed for v in outcome.variants] == [v.seed for v in alone.variants]
        for got, expected in zip(outcome.variants, alone.variants, strict=True):
            assert got.image.shape == request.sketch.shape
            # A stacked call may round differently from a single one, never by a visible step.
            difference = np.abs(got.image.astype(int) - expected.image.astype(int))
            assert difference.max() <= 2, difference.max()


def test_an_empty_sketch_fails_its_request_only(tiny_engine):
    requests = [
        GenerateRequest(sketch=np.zeros((20, 20, 4), np.uint8), count=1, steps=2),
        GenerateRequest(sketch=draw_circle_sketch(), count=1, steps=2),
    ]
    failed, done = tiny_engine.generate_batch(requests)
    assert isinstance(failed, EngineError) and str(failed).startswith("sketch is empty")
    assert len(done.variants) == 1


def test_progress_per_request_and_cancel_of_one_or_all(tiny_engine):
    requests = _requests()[:2]
    progress = []
    outcomes = tiny_engine.generate_batch(
        requests,
        on_progress=lambda index, step, total: progress.append((index, step, total)),
        should_cancel=lambda index: index == 0,
    )
    assert progress == [(0, 1, 3), (1, 1, 3), (0, 2, 3), (1, 2, 3), (0, 3, 3), (1, 3, 3)]
    # The stack ran for request 1; request 0, cancelled, gets no result.
    assert isinstance(outcomes[0], Cancelled) and len(outcomes[1].variants) == 3
    stopped = tiny_engine.generate_batch(requests, should_cancel=lambda index: True)
    assert all(isinstance(outcome, Cancelled) for outcome in stopped)
