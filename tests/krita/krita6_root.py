"""Real Krita 6 on a Debian 12 machine: a Debian unstable root with Krita 6 from the experimental
suite, built once with debootstrap and kept, and the command prefix that runs a program in it.

Krita 6 runs chrooted in a private mount namespace that sees this machine's /tmp (the test homes,
the X server's socket) and the checkout at the same paths, and shares its network, so the plugin
inside reaches the engine on the host's loopback. Run alone to build the root and time it:
`python tests/krita/krita6_root.py`.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ROOT = Path(os.environ.get("SV_KRITA6_ROOT", "/var/cache/sketch-variants/krita6-root"))
SUITE = "sid"
# python3-pyqt6 is only a Recommends of krita, and without it no Python plugin loads.
PACKAGES = ("krita", "python3-pyqt6", "xvfb", "xauth", "xdotool")
# Written last: a root without it is a build that did not finish, and is built again.
COMPLETE = ".sketch-variants-complete"
# Experimental's Release file is past its Valid-Until date on Debian's mirrors.
APT = ("apt-get", "-q", "-y", "-o", "Acquire::Check-Valid-Until=false")
DEFAULT_MIRROR = "http://deb.debian.org/debian"


def mirror() -> str:
    """The Debian archive this machine's apt uses (its first source ending in /debian)."""
    for path in (Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list")):
        text = path.read_text() if path.exists() else ""
        # deb822 ("URIs: http://...") or one-line ("deb [options] http://... suite") sources.
        found = re.search(r"(?m)^(?:URIs:|deb)\s+(?:\[[^\]]*\]\s+)?(\S+/debian)/?\s", text)
        if found:
            return found.group(1)
    return DEFAULT_MIRROR


def ready() -> bool:
    """True when the root was built completely with today's package list."""
    marker = ROOT / COMPLETE
    return marker.exists() and marker.read_text().split() == list(PACKAGES)


def why_not_buildable() -> str:
    """ "" when this machine can build and run the root, else what is missing."""
    if os.geteuid() != 0:
        return "building and entering the Krita 6 root needs root (debootstrap, chroot, mounts)"
    for tool, package in (("debootstrap", "debootstrap"), ("unshare", "util-linux")):
        if shutil.which(tool) is None:
            return f"{tool} is missing: apt-get install {package}"
    return ""


def build(log: Path) -> float:
    """Build the root if it is missing or unfinished; the seconds it took (0 when cached)."""
    if ready():
        return 0.0
    problem = why_not_buildable()
    if problem:
        raise RuntimeError(problem)
    started = time.monotonic()
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:

        def run(argv: list[str]) -> None:
            out.write(f"$ {shlex.join(argv)}\n")
            out.flush()
            done = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
            if done.returncode:
                raise RuntimeError(f"{shlex.join(argv)} failed ({done.returncode}); see {log}")

        building = ROOT.with_name(ROOT.name + ".building")
        shutil.rmtree(building, ignore_errors=True)
        building.parent.mkdir(parents=True, exist_ok=True)
        archive = mirror()
        run(["debootstrap", "--variant=minbase", SUITE, str(building), archive])
        (building / "etc/apt/sources.list").write_text(
            f"deb {archive} {SUITE} main\ndeb {archive} experimental main\n"
        )
        shutil.copy("/etc/resolv.conf", building / "etc/resolv.conf")
        inside = [*_enter(building, shared=()), "env", "DEBIAN_FRONTEND=noninteractive"]
        run([*inside, *APT, "update"])
        run([*inside, *APT, "install", "--no-install-recommends", "-t", "experimental", *PACKAGES])
        run([*inside, "apt-get", "clean"])
        (building / COMPLETE).write_text(" ".join(PACKAGES) + "\n")
        shutil.rmtree(ROOT, ignore_errors=True)
        building.rename(ROOT)
    return time.monotonic() - started


def _enter(root: Path, shared: tuple[str, ...]) -> list[str]:
    """A command prefix: private mounts (/proc, /dev, /sys and the `shared` folders of this
    machine at the same paths), then chroot.

    unshare without --fork and `exec` keep one process id, so stopping the returned command stops
    the program itself; the mounts vanish with it.
    """
    script = ["set -e", f"r={shlex.quote(str(root))}", 'mount -t proc proc "$r/proc"']
    script += ['mount --rbind /dev "$r/dev"', 'mount --rbind /sys "$r/sys"']
    for folder in shared:
        path = shlex.quote(folder)
        script += [f'mkdir -p "$r"{path}', f'mount --bind {path} "$r"{path}']
    script += ['exec chroot "$r" "$@"']
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", "; ".join(script), "sh"]


def command(argv: list[str]) -> list[str]:
    """`argv` run inside the Krita 6 root (which must be built)."""
    return [*_enter(ROOT, shared=("/tmp", str(REPO))), *argv]


if __name__ == "__main__":
    seconds = build(REPO / "out" / "test-artifacts" / "krita6-root.log")
    print(f"Krita 6 root at {ROOT}: " + (f"built in {seconds:.0f} s" if seconds else "cached"))
    sys.exit(0)
