"""Many clients at once: every job gets its own correct result and none is lost."""

from __future__ import annotations

import threading

import numpy as np

from engine.request import GenerateRequest
from tests.fakes.fake_engine import fake_image, sketch

CLIENTS = 4
JOBS_PER_CLIENT = 10


def test_four_clients_ten_jobs_each_get_their_own_results(served):
    failures: list[str] = []
    checked: list[str] = []
    lock = threading.Lock()

    def client_work(client_index: int) -> None:
        try:
            submitted = []
            for job_index in range(JOBS_PER_CLIENT):
                # Each job differs in sketch, seed and size, so any mix-up shows.
                image = sketch(100 * client_index + job_index, 8 + job_index, 9 + client_index)
                seed = 1000 * client_index + 7 * job_index
                job_id = served.client.submit(image, seed=seed, count=2, steps=2)
                submitted.append((job_id, image, seed))
            for job_id, image, seed in submitted:
                assert served.client.wait(job_id)["state"] == "done", job_id
                request = GenerateRequest(sketch=image, seed=seed, count=2, steps=2)
                variants = served.client.result(job_id)
                assert [got_seed for got_seed, _ in variants] == [seed, seed + 1]
                for got_seed, variant in variants:
                    np.testing.assert_array_equal(variant, fake_image(request, got_seed, "fake"))
                with lock:
                    checked.append(job_id)
        except Exception as error:  # reported by the main thread
            with lock:
                failures.append(f"client {client_index}: {error!r}")

    threads = [threading.Thread(target=client_work, args=(index,)) for index in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []
    assert len(set(checked)) == CLIENTS * JOBS_PER_CLIENT
    assert len(served.engine.seen) == CLIENTS * JOBS_PER_CLIENT
