"""The plugin's engine command in the real-Krita training test: it runs inside Krita (inside Krita
6's Debian root too, where the checkout's Python and TensorFlow cannot run), asks the test's
EngineBroker on this machine to start the engine, and passes the engine's output on, so the plugin
reads its ready line as from `python -m engine serve`. Stopping this process stops the engine.

Usage: python3 engine_launcher.py SOCKET   (standard library only: Krita's own Python runs it)
"""

from __future__ import annotations

import signal
import socket
import sys


def main() -> None:
    """Relay until the engine's output ends or the plugin stops this process."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # closing the socket stops the engine
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as broker:
        broker.connect(sys.argv[1])
        while chunk := broker.recv(4096):
            sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
