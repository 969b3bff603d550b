"""Consent records: what each purpose ends as, and the signed row that proves it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
from marshmallow import ValidationError

from .. import receipts
from ..ids import uuid7
from ..schemas.widget import PageLocation
from .common import ClientFacts
from .sitecache import Purpose

GPC_DENIED = "marketing"


def resolve_purposes(
    purposes: Sequence[Purpose], action: str, given: Mapping[str, bool], gpc: bool
) -> dict[str, bool]:
    """The server decides: required always on; reject/withdraw deny the rest; GPC denies
    marketing unless the visitor switched it on themselves in a custom choice."""
    known = {p.key for p in purposes}
    unknown = [key for key in given if key not in known]
    if unknown:
        raise ValidationError({"purposes": {key: ["Unknown purpose."] for key in unknown}})
    resolved: dict[str, bool] = {}
    for p in purposes:
        if p.required:
            resolved[p.key] = True
        elif action == "accept_all":
            resolved[p.key] = not (gpc and p.key == GPC_DENIED)
        elif action == "custom":
            resolved[p.key] = given.get(p.key, False)
        else:  # reject_all, withdraw
            resolved[p.key] = False
    return resolved


def new_record(
    secret: str,
    *,
    site_id: uuid.UUID,
    event_id: uuid.UUID | None,
    visitor_id: str,
    action: str,
    surface: str,
    purposes: dict[str, bool],
    policy: asyncpg.Record,
    language: str,
    page: PageLocation,
    client: ClientFacts,
    request_id: uuid.UUID | None,
    created_at: dt.datetime,
    expiry_days: int,
) -> dict[str, Any]:
    """Every column of a consent_records row, the receipt signed over the canonical fields."""
    record: dict[str, Any] = {
        "record_id": uuid7(),
        "site_id": site_id,
        "event_id": event_id,
        "visitor_id": visitor_id,
        "action": action,
        "surface": surface,
        "purposes": purposes,
        "policy_version": policy["version"],
        "policy_sha256": policy["sha256"],
        "language": language,
        "page_origin": page.origin,
        "page_path": page.path,
        "gpc": client.gpc,
        "user_agent": client.user_agent,
        "widget_version": client.widget_version,
        "request_id": request_id,
        "created_at": created_at,
        "valid_until": created_at + dt.timedelta(days=expiry_days),
    }
    record["receipt"] = receipts.sign(secret, record)
    return record
