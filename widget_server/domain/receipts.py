"""Consent receipts: an HMAC over a record's canonical fields, so tampering shows."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from typing import Any

VERSION = "v1"
# The fields a receipt covers, in this order; changing the list needs a new VERSION.
CANONICAL_FIELDS = (
    "record_id",
    "site_id",
    "event_id",
    "visitor_id",
    "action",
    "surface",
    "purposes",
    "policy_version",
    "policy_sha256",
    "language",
    "page_origin",
    "page_path",
    "gpc",
    "user_agent",
    "widget_version",
    "request_id",
    "created_at",
    "valid_until",
)


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"widget-server consent receipt", hashlib.sha256).digest()


def _canon(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def canonical_bytes(record: Mapping[str, Any]) -> bytes:
    data = [[name, _canon(record[name])] for name in CANONICAL_FIELDS]
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sign(secret: str, record: Mapping[str, Any]) -> str:
    mac = hmac.new(_key(secret), canonical_bytes(record), hashlib.sha256).digest()
    return f"{VERSION}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def verify(secret: str, record: Mapping[str, Any]) -> bool:
    receipt = record["receipt"]
    return isinstance(receipt, str) and hmac.compare_digest(receipt, sign(secret, record))
