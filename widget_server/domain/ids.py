"""Identifiers: time-ordered UUIDv7 for records, random keys for sites."""

from __future__ import annotations

import os
import re
import secrets
import time
import uuid


def uuid7() -> uuid.UUID:
    """RFC 9562 version 7: 48 bits of Unix milliseconds, version, variant, 74 random bits."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")  # 80 bits, 74 used
    rand_a = rand >> 68  # 12 bits
    rand_b = rand & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return uuid.UUID(int=value)


def new_site_key() -> str:
    """A public site key: printed in pages, yet too long to enumerate."""
    return "st_" + secrets.token_hex(10)


# What a site key can look like (more than new_site_key makes: keys of older releases, tests).
SITE_KEY_FORMAT = re.compile(r"[A-Za-z0-9_-]{1,64}")


def plausible_site_key(text: str) -> bool:
    """Whether `text` could be a site key; anything else names no site, and is not looked up
    (which also keeps NUL and other bytes Postgres refuses out of every query)."""
    return SITE_KEY_FORMAT.fullmatch(text) is not None
