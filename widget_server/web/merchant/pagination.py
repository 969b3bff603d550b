"""Opaque list cursors: a signed keyset position, bound to the list it came from."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import Any

from widget_server.db.queries.keyset import Keyset
from widget_server.web.problems import ProblemError

MAC_BYTES = 16


class CursorError(ValueError):
    """A cursor that this server did not issue for this list."""


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"widget-server list cursor", hashlib.sha256).digest()


def _mac(secret: str, scope: str, payload: bytes) -> bytes:
    message = scope.encode() + b"\0" + payload
    return hmac.new(_key(secret), message, hashlib.sha256).digest()[:MAC_BYTES]


def encode(secret: str, scope: str, position: Sequence[str | int]) -> str:
    """base64url(JSON position + MAC); the scope (list and site) is signed but not carried."""
    payload = json.dumps(list(position), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload + _mac(secret, scope, payload)).rstrip(b"=").decode()


def decode(secret: str, scope: str, cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raise CursorError("not base64url") from None
    payload, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
    if len(raw) <= MAC_BYTES or not hmac.compare_digest(mac, _mac(secret, scope, payload)):
        raise CursorError("not issued for this list")
    value = json.loads(payload)
    if not isinstance(value, list):
        raise CursorError("malformed")
    return value


def bad_cursor() -> ProblemError:
    return ProblemError(
        422,
        "The cursor is not one this list gave out.",
        errors={"cursor": ["Pass the next_cursor of the previous page unchanged."]},
    )


def position_after(
    secret: str, scope: str, keyset: Keyset, cursor: str | None
) -> tuple[Any, ...] | None:
    """Where the next page starts, or None for the first page; 422 for a cursor not ours."""
    if cursor is None:
        return None
    try:
        return keyset.parse(decode(secret, scope, cursor))
    except (CursorError, ValueError, TypeError):
        raise bad_cursor() from None
