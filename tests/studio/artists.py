"""Artists at their Krita: the plugin's own client (the docker's), each in a thread of its own
with its own Qt event loop, submitting jobs at once and following each to its end."""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parents[2] / "krita_plugin"
if str(PLUGIN_DIR) not in sys.path:
    sys.path.insert(0, str(PLUGIN_DIR))

from sketch_variants.client import EngineClient, Failure  # noqa: E402
from sketch_variants.events import Progress, StateChange  # noqa: E402
from sketch_variants.qt import QtCore, QtWidgets  # noqa: E402
from sketch_variants.values import JobRequest, Variant  # noqa: E402

# The plugin's client needs a Qt application, as inside Krita; one per process.
APP = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
GIVE_UP_MS = 300_000  # an artist's jobs all end well within this, or the test fails on them


@dataclass
class Followed:
    """What an artist saw of one job."""

    job_id: str = ""
    progress: list[tuple[int, int]] = field(default_factory=list)
    state: str = ""  # the final state, "" while it has not ended
    error: str = ""
    variants: list[Variant] | None = None
    failure: str = ""  # a request that failed (HTTP), not the job


class Artist(threading.Thread):
    """One artist: submits `jobs` at once through the plugin's client, cancelling those in
    `cancel_at` (index -> step) once their progress reaches that step."""

    def __init__(
        self,
        url: str,
        token: str,
        jobs: list[JobRequest],
        cancel_at: dict[int, int] | None = None,
    ) -> None:
        super().__init__(daemon=True)
        self.url, self.token, self.jobs = url, token, jobs
        self.cancel_at = cancel_at or {}
        self.seen = [Followed() for _ in jobs]

    def run(self) -> None:
        loop = QtCore.QEventLoop()
        client = EngineClient()
        client.configure(self.url, self.token)
        pending = set(range(len(self.jobs)))

        def ended(index: int) -> None:
            pending.discard(index)
            if not pending:
                loop.quit()

        def failed(index: int, failure: Failure) -> None:
            self.seen[index].failure = failure.message
            ended(index)

        def accepted(index: int, job_id: str) -> None:
            seen = self.seen[index]
            seen.job_id = job_id

            def on_event(event: object) -> None:
                if isinstance(event, Progress):
                    seen.progress.append((event.step, event.total))
                    if self.cancel_at.get(index) == event.step:
                        client.cancel(job_id)
                elif isinstance(event, StateChange) and event.final:
                    seen.state, seen.error = event.state, event.error
                    if event.state == "done":
                        client.result(job_id, got_variants, lambda f: failed(index, f))
                    else:
                        ended(index)

            def got_variants(variants: list[Variant]) -> None:
                seen.variants = variants
                ended(index)

            client.events(job_id, on_event, lambda f: failed(index, f))

        for index, job in enumerate(self.jobs):
            client.submit(
                job,
                lambda job_id, index=index: accepted(index, job_id),
                lambda failure, index=index: failed(index, failure),
            )
        QtCore.QTimer.singleShot(GIVE_UP_MS, loop.quit)
        loop.exec()
        client.deleteLater()


def run_artists(artists: list[Artist]) -> None:
    """Start every artist at once and wait until each one's jobs have ended."""
    for artist in artists:
        artist.start()
    for artist in artists:
        artist.join(GIVE_UP_MS / 1000 + 30)
        assert not artist.is_alive(), "an artist's client never returned"
