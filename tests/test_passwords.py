from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from domain.passwords import hash_password, needs_rehash, verify_password


def test_hash_verifies_only_its_own_password() -> None:
    stored = hash_password("correct horse battery staple")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse battery staple")
    assert not verify_password(stored, "Correct horse battery staple")
    assert not verify_password(stored, "")


def test_same_password_hashes_differently() -> None:
    assert hash_password("same") != hash_password("same")


def test_unreadable_hashes_never_match_and_never_raise() -> None:
    for stored in ("", "not-a-real-hash", "$argon2id$v=19$garbage", "$2b$12$bcrypt-ish"):
        assert not verify_password(stored, "anything")
        assert needs_rehash(stored)


def test_rehash_is_needed_only_for_other_parameters() -> None:
    assert not needs_rehash(hash_password("pw"))
    weaker = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("pw")
    assert verify_password(weaker, "pw")
    assert needs_rehash(weaker)


def test_empty_password_cannot_be_hashed() -> None:
    with pytest.raises(ValueError, match="empty"):
        hash_password("")
