"""Opaque list cursors: a signed keyset position, bound to the list it came from."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import uuid
from collections.abc import Sequence
from typing import Any

from widget_server.problems import ProblemError
from widget_server.queries.merchant_filters import TimeKey

MAC_BYTES = 16


class CursorError(ValueError):
    """A cursor that this server did not issue for this list."""


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"widget-server list cursor", hashlib.sha256).digest()


def encode(secret: str, scope: str, position: Sequence[str | int]) -> str:
    """base64url(JSON position + MAC); the scope (list and site) is signed but not carried."""
    payload = json.dumps(list(position), separators=(",", ":")).encode()
    mac = hmac.new(_key(secret), scope.encode() + b"\0" + payload, hashlib.sha256).digest()[
        :MAC_BYTES
    ]
    return base64.urlsafe_b64encode(payload + mac).rstrip(b"=").decode()


def decode(secret: str, scope: str, cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raise CursorError("not base64url") from None
    payload, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
    expected = hmac.new(_key(secret), scope.encode() + b"\0" + payload, hashlib.sha256).digest()[
        :MAC_BYTES
    ]
    if len(raw) <= MAC_BYTES or not hmac.compare_digest(mac, expected):
        raise CursorError("not issued for this list")
    value = json.loads(payload)
    if not isinstance(value, list):
        raise CursorError("malformed")
    return value


def _bad_cursor() -> ProblemError:
    return ProblemError(
        422,
        "The cursor is not one this list gave out.",
        errors={"cursor": ["Pass the next_cursor of the previous page unchanged."]},
    )


def encode_time_key(secret: str, scope: str, created_at: dt.datetime, item_id: uuid.UUID) -> str:
    return encode(secret, scope, [created_at.astimezone(dt.UTC).isoformat(), str(item_id)])


def decode_time_key(secret: str, scope: str, cursor: str | None) -> TimeKey | None:
    """The (created_at, id) after which the next page starts, or None for the first page; 422 if forged."""
    if cursor is None:
        return None
    try:
        created, item = decode(secret, scope, cursor)
        return dt.datetime.fromisoformat(created), uuid.UUID(item)
    except (CursorError, ValueError, TypeError):
        raise _bad_cursor() from None


def decode_int_key(secret: str, scope: str, cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        (value,) = decode(secret, scope, cursor)
    except (CursorError, ValueError, TypeError):
        raise _bad_cursor() from None
    if not isinstance(value, int):
        raise _bad_cursor()
    return value
