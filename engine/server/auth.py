"""The server's bearer token: made once by a secure generator, in a file only the user reads."""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from engine.errors import EngineError

TOKEN_BYTES = 32  # 256 bits of randomness, 43 URL-safe characters
# 22 URL-safe base64 characters carry 132 bits: the shortest token a file may hold (128 bits).
MIN_TOKEN_CHARS = 22


def load_or_create_token(path: Path) -> str:
    """The token stored at `path`; creates the file (mode 0600) with a new token if absent.

    EngineError (one line saying what to do) for a file others can read, a short or unusable
    token, or a symlink to nothing.
    """
    path = Path(path)
    if path.is_symlink() and not path.exists():
        raise EngineError(
            f"token file {path} is a symlink to {os.readlink(path)}, which does not exist: "
            "remove the link or create its target"
        )
    try:
        return _read_token(path)
    except FileNotFoundError:
        pass
    # 0700 on the folder too: the token is the only thing between a local process and the model.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    try:
        _publish(path, token)
    except FileExistsError:
        # Another server started at the same moment and won: use its token, complete by now.
        return _read_token(path)
    except OSError as error:
        raise EngineError(f"cannot create token file {path}: {error.strerror or error}") from None
    return token


def _publish(path: Path, token: str) -> None:
    """Write the token to a private temporary file, then link it into place.

    A link never replaces an existing file and makes the name appear with its whole content, so a
    server starting at the same moment reads either nothing or the complete token, never half.
    """
    descriptor, temporary = _private_temporary(path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(token + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.link(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _private_temporary(folder: Path) -> tuple[int, str]:
    for _ in range(100):
        name = folder / f".token-{secrets.token_hex(8)}.tmp"
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), str(name)
        except FileExistsError:
            continue
    raise EngineError(f"cannot create a temporary token file in {folder}")


def _read_token(path: Path) -> str:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as error:
        raise EngineError(f"cannot read token file {path}: {error}") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise EngineError(
            f"token file {path} can be read by other users: run `chmod 600 {path}`, "
            "or delete it to make a new token"
        )
    token = text.strip()
    if not token or not token.isascii() or not token.isprintable() or " " in token:
        raise EngineError(f"token file {path} does not hold a token: delete it to make a new one")
    if len(token) < MIN_TOKEN_CHARS:
        raise EngineError(
            f"token file {path} holds a {len(token)}-character token, too short to be safe: "
            f"use at least {MIN_TOKEN_CHARS} random URL-safe characters, or delete it to make one"
        )
    return token


def token_matches(authorization: str | None, token: str) -> bool:
    """True when an Authorization header value is `Bearer <token>` (compared in constant time)."""
    if not authorization:
        return False
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return False
    # Bytes, because compare_digest refuses non-ASCII str and headers arrive as latin-1 text.
    return hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8"))
