"""The work queue on its own: several workers at once, and a model switch that waits for them."""

from __future__ import annotations

import threading
import time

from engine.request import GenerateRequest
from engine.server.jobs import Generation, Job
from engine.server.work import QueueLimits, State, WorkItem, WorkQueue
from tests.fakes.fake_engine import FakeEngine, sketch


def _wait_until(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_two_workers_run_two_items_at_once_and_close_ends_both():
    both_running = threading.Barrier(2)

    def run(item: WorkItem, queue: WorkQueue[WorkItem]) -> None:
        both_running.wait(10)  # broken, and the item failed, unless the other one runs too

    queue: WorkQueue[WorkItem] = WorkQueue(run, QueueLimits(waiting=4, workers=2))
    queue.start()
    try:
        items = [queue.submit(WorkItem()) for _ in range(2)]
        assert _wait_until(lambda: all(item.state == State.DONE for item in items))
    finally:
        queue.close()


def test_a_model_switch_waits_for_the_running_job_and_later_jobs_use_the_new_engine():
    old, new = FakeEngine("old", hold=True), FakeEngine("new")
    generation = Generation(old)
    queue = WorkQueue(generation, QueueLimits(waiting=4, workers=2))
    queue.start()
    try:
        first = queue.submit(Job(GenerateRequest(sketch=sketch(1), count=1, steps=2)))
        assert old.started.wait(10)
        switched = threading.Thread(target=generation.switch_engine, args=(lambda: new,))
        switched.start()
        switched.join(0.3)
        assert switched.is_alive() and generation.engine is old  # the job still runs on it
        second = queue.submit(Job(GenerateRequest(sketch=sketch(2), count=1, steps=2)))
        time.sleep(0.2)
        assert second.state == State.RUNNING and not new.requests  # waits for the switch
        old.release.set()
        switched.join(10)
        assert _wait_until(lambda: first.state == second.state == State.DONE)
        assert generation.engine is new
        assert len(old.requests) == 1 and len(new.requests) == 1
    finally:
        old.release.set()
        queue.close()
