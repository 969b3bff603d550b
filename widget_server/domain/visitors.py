"""The anonymous visitor hash: the same visitor is the same hash for one day on one site, no longer."""

from __future__ import annotations

import hashlib
import hmac
import uuid

VISITOR_HASH_BYTES = 16


def visitor_hash(salt: bytes, site_id: uuid.UUID, ip: str, user_agent: str) -> bytes:
    """Plausible's scheme: a keyed hash of the day's salt, the site, the IP and the user agent."""
    message = f"{site_id}|{ip}|{user_agent}".encode("utf-8", "replace")
    return hmac.new(salt, message, hashlib.sha256).digest()[:VISITOR_HASH_BYTES]
