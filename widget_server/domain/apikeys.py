"""API key secrets: generated once, stored only as a SHA-256, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

PREFIX = "wsk_"
LOOKUP_LENGTH = 12


@dataclass(frozen=True)
class NewKey:
    secret: str
    lookup: str
    digest: bytes


def generate() -> NewKey:
    secret = PREFIX + secrets.token_urlsafe(32)
    return NewKey(secret=secret, lookup=lookup_of(secret), digest=digest_of(secret))


def lookup_of(secret: str) -> str:
    return secret[len(PREFIX) : len(PREFIX) + LOOKUP_LENGTH]


def digest_of(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def well_formed(secret: str) -> bool:
    return secret.startswith(PREFIX) and 40 <= len(secret) <= 80 and secret.isascii()


def matches(secret: str, stored_digest: bytes) -> bool:
    return hmac.compare_digest(digest_of(secret), stored_digest)
