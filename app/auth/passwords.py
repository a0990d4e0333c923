"""argon2id password hashing, run in a thread so it never blocks the event loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's argon2id baseline: m=19 MiB, t=2, p=1.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified when the email is unknown, so a miss costs as long as a hit.
_DUMMY_HASH = _hasher.hash("not-a-real-password-used-for-timing")


def _secret(password: str) -> bytes:
    # "surrogatepass": a lone surrogate (valid in JSON, not in UTF-8) must not crash the
    # hasher; for every other string these are exactly the UTF-8 bytes hashed before.
    return password.encode("utf-8", "surrogatepass")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, _secret(password))


async def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; always spends one full verification."""
    return await asyncio.to_thread(
        _verify, password_hash or _DUMMY_HASH, _secret(password)
    ) and bool(password_hash)


def _verify(password_hash: str, password: bytes) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
