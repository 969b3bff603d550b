"""Unsubscribe tokens: HMAC-signed site and contact ids, never the e-mail address."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import uuid

VERSION = b"\x01"
MAC_BYTES = 16
PAYLOAD_BYTES = 1 + 16 + 16
TOKEN_FORMAT = re.compile(r"[A-Za-z0-9_-]{20,100}")


def _key(secret: str) -> bytes:
    # A derived key, so a token MAC can never be replayed as a receipt or any other signature.
    return hmac.new(secret.encode(), b"widget-server unsubscribe token", hashlib.sha256).digest()


def make_unsubscribe_token(secret: str, site_id: uuid.UUID, contact_id: uuid.UUID) -> str:
    payload = VERSION + site_id.bytes + contact_id.bytes
    mac = hmac.new(_key(secret), payload, hashlib.sha256).digest()[:MAC_BYTES]
    return base64.urlsafe_b64encode(payload + mac).rstrip(b"=").decode()


def read_unsubscribe_token(secret: str, token: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(site_id, contact_id) when the token is ours and untouched, else None."""
    if not TOKEN_FORMAT.fullmatch(token):
        return None  # b64decode would skip foreign characters; accept only the one spelling
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != PAYLOAD_BYTES + MAC_BYTES or raw[:1] != VERSION:
        return None
    payload, mac = raw[:PAYLOAD_BYTES], raw[PAYLOAD_BYTES:]
    expected = hmac.new(_key(secret), payload, hashlib.sha256).digest()[:MAC_BYTES]
    if not hmac.compare_digest(mac, expected):
        return None
    return uuid.UUID(bytes=payload[1:17]), uuid.UUID(bytes=payload[17:33])


def unsubscribe_url(public_url: str, secret: str, site_id: uuid.UUID, contact_id: uuid.UUID) -> str:
    return f"{public_url.rstrip('/')}/u/{make_unsubscribe_token(secret, site_id, contact_id)}"
