"""Password hashing for legacy organization logins and individual accounts (Argon2id).

One module owns the parameters, so raising the cost later is one change here plus `needs_rehash`
at the next successful login. Verification never raises on bad input: a wrong password, a
corrupt hash or a hash from another scheme all mean "does not match".
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults (RFC 9106 "low memory" profile: 64 MiB, 3 passes, 4 lanes).
_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """An encoded Argon2id hash with its own random salt; the same password hashes differently."""
    if not password:
        raise ValueError("an empty password cannot be hashed")
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches `password_hash`; False for wrong, empty or unreadable input."""
    if not password or not password_hash:
        return False
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's and should be replaced."""
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True
