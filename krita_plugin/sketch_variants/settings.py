"""The plugin's settings: typed values, stored as strings in Krita's settings via the adapter."""

from __future__ import annotations

import ipaddress
import os
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from urllib.parse import urlparse

from .values import (
    COUNT_RANGE,
    MODES,
    RADIUS_RANGE,
    SEED_MAX,
    STEPS_RANGE,
    Params,
    checked_colour,
)

GROUP = "sketch_variants"  # the section in kritarc
APP_NAME = "sketch-variants"


@dataclass(frozen=True)
class Settings:
    """Everything the artist can configure, with safe defaults."""

    params: Params = Params()
    server_url: str = ""  # a remote or already running engine; "" = the plugin's own local engine
    token: str = ""  # the token of a remote engine; "" = read the local engine's token file
    engine_command: str = ""  # command that starts a local engine; "" = the installed default
    keep_engine_running: bool = False  # leave the started engine running when Krita quits
    last_engine_url: str = ""  # where the last engine the plugin started was listening
    start_timeout_s: int = 300  # how long a starting engine may take to load its model

    def with_params(self, params: Params) -> Settings:
        """A copy with new generation parameters."""
        return replace(self, params=params)


Reader = Callable[[str, str], str]
Writer = Callable[[str, str], None]


def load(read: Reader) -> Settings:
    """Settings from a string store; unreadable or out-of-range values fall back to defaults."""
    defaults = Settings()
    p = defaults.params
    params = Params(
        count=_int(read("count", ""), p.count, COUNT_RANGE),
        radius=_int(read("radius", ""), p.radius, RADIUS_RANGE),
        mode=read("mode", p.mode) if read("mode", p.mode) in MODES else p.mode,
        strength=_float(read("strength", ""), p.strength),
        seed=_int(read("seed", ""), p.seed, (0, SEED_MAX)),
        new_seed=_bool(read("new_seed", ""), p.new_seed),
        fast_sampling=_bool(read("fast_sampling", ""), p.fast_sampling),
        steps=_int(read("steps", ""), p.steps, STEPS_RANGE),
        upscale=_bool(read("upscale", ""), p.upscale),
        clean_fills=_bool(read("clean_fills", ""), p.clean_fills),
        live_steps=_int(read("live_steps", ""), p.live_steps, STEPS_RANGE),
        model=read("model", "").strip()[:64],
        colour=checked_colour(read("colour", "")),
    )
    return Settings(
        params=params,
        server_url=read("server_url", "").strip(),
        token=read("token", "").strip(),
        engine_command=read("engine_command", "").strip(),
        keep_engine_running=_bool(read("keep_engine_running", ""), False),
        last_engine_url=read("last_engine_url", "").strip(),
        start_timeout_s=_int(read("start_timeout_s", ""), defaults.start_timeout_s, (5, 3600)),
    )


def save(settings: Settings, write: Writer) -> None:
    """Write every setting to a string store."""
    for item in fields(Params):
        write(item.name, _text(getattr(settings.params, item.name)))
    for item in fields(Settings):
        if item.name != "params":
            write(item.name, _text(getattr(settings, item.name)))


def is_loopback(url: str) -> bool:
    """True when `url` points at this machine, where the plugin may start an engine."""
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve to any machine


def config_dir() -> Path:
    """The engine's configuration folder (XDG_CONFIG_HOME respected)."""
    base = os.environ.get("XDG_CONFIG_HOME")
    return (Path(base) if base else Path.home() / ".config") / APP_NAME


def data_dir() -> Path:
    """The engine's data folder, where the installer puts its environment."""
    base = os.environ.get("XDG_DATA_HOME")
    return (Path(base) if base else Path.home() / ".local" / "share") / APP_NAME


def token_file() -> Path:
    """Where a local engine keeps its bearer token."""
    return config_dir() / "token"


def read_token(settings: Settings) -> str:
    """The configured token, else the local engine's token file, else ""."""
    if settings.token:
        return settings.token
    try:
        return token_file().read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def token_for(settings: Settings, url: str) -> str | None:
    """The token to send to `url`, or None when there is none we may send there.

    The local engine's token never leaves this machine: a remote address gets only the token
    entered for it in the settings.
    """
    if is_loopback(url):
        return read_token(settings)
    return settings.token or None


def venv_python(venv: Path, platform: str = sys.platform) -> Path:
    """The interpreter inside a virtual environment on `platform` (a sys.platform value)."""
    if platform == "win32":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"  # Linux and macOS alike


def split_command(command: str, platform: str = sys.platform) -> list[str]:
    """A command line as argv; on Windows backslashes are folder separators, not escapes."""
    if platform != "win32":
        return shlex.split(command)
    lexer = shlex.shlex(command, posix=False)
    lexer.whitespace_split = True
    return [part[1:-1] if part[:1] == part[-1:] == '"' else part for part in lexer]


def repo_root() -> Path:
    """The checkout this plugin lives in, when it runs from the repository."""
    # The plugin folder may be a symlink into the checkout; resolve() follows it.
    return Path(__file__).resolve().parent.parent.parent


def engine_command(settings: Settings, platform: str = sys.platform) -> tuple[list[str], str]:
    """The command (argv) and working folder that start a local engine on `platform`."""
    if settings.engine_command:
        return split_command(settings.engine_command, platform), str(Path.home())
    serve = ["-m", "engine", "serve", "--port", "0"]
    installed = venv_python(data_dir() / "venv", platform)
    if installed.exists():
        return [str(installed), *serve], str(data_dir())
    repo = repo_root()
    checkout = venv_python(repo / ".venv", platform)
    if checkout.exists() and (repo / "engine").is_dir():
        return [str(checkout), *serve], str(repo)
    return [str(installed), *serve], str(Path.home())


def _int(text: str, default: int, bounds: tuple[int, int]) -> int:
    try:
        value = int(text)
    except ValueError:
        return default
    return value if bounds[0] <= value <= bounds[1] else default


def _float(text: str, default: float) -> float:
    try:
        value = float(text)
    except ValueError:
        return default
    return value if 0.0 < value <= 1.0 else default


def _bool(text: str, default: bool) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    return default


def _text(value: object) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
