"""The server's bearer token: made once by a secure generator, in a file only the user reads."""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from engine.errors import EngineError

TOKEN_BYTES = 32  # 256 bits of randomness, 43 URL-safe characters


def load_or_create_token(path: Path) -> str:
    """The token stored at `path`; creates the file (mode 0600) with a new token if absent."""
    path = Path(path)
    try:
        return _read_token(path)
    except FileNotFoundError:
        pass
    # 0700 on the folder too: the token is the only thing between a local process and the model.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    try:
        # O_EXCL: two servers starting at once must not overwrite each other's token.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_token(path)
    except OSError as error:
        raise EngineError(f"cannot create token file {path}: {error.strerror or error}") from None
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(token + "\n")
    return token


def _read_token(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as error:
        raise EngineError(f"cannot read token file {path}: {error}") from None
    token = text.strip()
    if not token or any(char.isspace() for char in token):
        raise EngineError(f"token file {path} does not hold a token: delete it to make a new one")
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
