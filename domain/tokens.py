"""Single-use link tokens: 256 random bits in the link, only their SHA-256 in the database."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(raw: str) -> str:
    # A plain hash is enough: the token is 256 random bits, so there is nothing to brute-force,
    # and a fast hash lets the lookup use the unique index.
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def looks_like_token(raw: str) -> bool:
    """Cheap shape check before touching the database (link scanners try odd paths)."""
    return 32 <= len(raw) <= 64 and all(c.isalnum() or c in "-_" for c in raw)
