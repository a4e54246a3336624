"""The one line `serve` prints on stdout once it answers: `ENGINE_READY http://HOST:PORT`.

Everything that starts an engine (the plugin, the demo, tests) waits for this line; its format lives
here only. The Krita plugin cannot import the engine and keeps a copy of the prefix.
"""

from __future__ import annotations

READY_PREFIX = "ENGINE_READY "


def ready_line(url: str) -> str:
    """The ready line for a server at `url`, without the newline."""
    return f"{READY_PREFIX}{url}"


def parse_ready_line(line: str) -> str | None:
    """The URL of a ready line, else None."""
    if not line.startswith(READY_PREFIX):
        return None
    url = line[len(READY_PREFIX) :].strip()
    return url if url.startswith(("http://", "https://")) else None
