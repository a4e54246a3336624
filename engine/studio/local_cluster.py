"""A Ray cluster of several nodes on this machine's loopback, for the tests and the benchmark.

Each node is its own `ray start --block` process with its own CPUs and object store, as a
studio's boxes would be; stopping a node's process stops everything Ray started on it.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NODE_START_S = 120.0  # a node joins within this many seconds on a loaded 2-core machine
OBJECT_STORE_BYTES = 100 * 1024 * 1024  # ample for sketches and variants, small for a laptop


class LocalCluster:
    """A head and `workers` worker nodes on 127.0.0.1, each with `cpus` CPUs; a context manager."""

    def __init__(self, workers: int = 1, cpus: int = 1) -> None:
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self._cpus = cpus
        self._workers = workers
        # Ray's sockets live here; a short path, since Unix socket paths have a 107-byte limit.
        self._temp = Path(tempfile.mkdtemp(prefix="sv-ray-"))
        self.nodes: list[subprocess.Popen] = []

    def __enter__(self) -> LocalCluster:
        try:
            self.nodes.append(self._start(["--head", f"--port={self.port}"]))
            self._wait_for_nodes(1)
            for _ in range(self._workers):
                self.nodes.append(self._start([f"--address={self.address}"]))
            self._wait_for_nodes(1 + self._workers)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def logs(self) -> Path:
        """The cluster's log folder (Serve writes each replica's log under serve/)."""
        return self._temp / "session_latest" / "logs"

    def close(self) -> None:
        """Stop every node (workers first) and remove Ray's files."""
        for node in reversed(self.nodes):
            if node.poll() is None:
                node.send_signal(signal.SIGTERM)
        for node in reversed(self.nodes):
            try:
                node.wait(30)
            except subprocess.TimeoutExpired:
                node.kill()
                node.wait(10)
        self.nodes.clear()
        shutil.rmtree(self._temp, ignore_errors=True)

    def _start(self, role: list[str]) -> subprocess.Popen:
        ray_cli = Path(sys.executable).with_name("ray")
        command = [
            str(ray_cli),
            "start",
            *role,
            "--block",
            "--node-ip-address=127.0.0.1",
            f"--num-cpus={self._cpus}",
            "--num-gpus=0",
            f"--object-store-memory={OBJECT_STORE_BYTES}",
            "--disable-usage-stats",
            # Ray's fixed default ports would collide with another loopback cluster's.
            f"--dashboard-agent-listen-port={_free_port()}",
        ]
        if "--head" in role:
            command += [
                f"--ray-client-server-port={_free_port()}",
                "--include-dashboard=false",
                f"--temp-dir={self._temp}",
            ]
        log = open(self._temp / f"node-{len(self.nodes)}.log", "ab")  # noqa: SIM115
        try:
            return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        finally:
            log.close()

    def _wait_for_nodes(self, count: int) -> None:
        deadline = time.monotonic() + NODE_START_S
        while time.monotonic() < deadline:
            for node in self.nodes:
                if node.poll() is not None:
                    raise RuntimeError(
                        f"a Ray node exited with {node.returncode}: {self.log_tail()}"
                    )
            if self._alive_nodes() >= count:
                return
            time.sleep(1.0)
        raise RuntimeError(
            f"{count} Ray nodes did not start in {NODE_START_S} s: {self.log_tail()}"
        )

    def _alive_nodes(self) -> int:
        probe = subprocess.run(
            [sys.executable, "-c", _COUNT_NODES, self.address],
            capture_output=True,
            text=True,
            timeout=60,
        )
        return int(probe.stdout.strip() or 0) if probe.returncode == 0 else 0

    def log_tail(self) -> str:
        """The end of the nodes' own output, for a failure's message."""
        text = "".join(
            path.read_text(errors="replace") for path in sorted(self._temp.glob("*.log"))
        )
        return text[-2000:]


# A separate process asks: a driver in the caller's process would stay attached to the cluster.
_COUNT_NODES = (
    "import sys, ray; ray.init(address=sys.argv[1], logging_level='ERROR', log_to_driver=False);"
    " print(sum(1 for node in ray.nodes() if node['Alive']))"
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
