"""Consent records: the signed row that proves a decision, and the rule that it names the current text."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from widget_server.domain import receipts
from widget_server.domain.errors import Conflict
from widget_server.domain.ids import uuid7
from widget_server.domain.origins import PageLocation
from widget_server.domain.rows import Row


@dataclass(frozen=True)
class ClientFacts:
    """What a consent record keeps about the browser besides the body: never its address."""

    gpc: bool
    user_agent: str | None
    widget_version: str | None


def check_policy(policy: Row | None, version: int) -> Row:
    """Consent is to the current text only: anything else makes the widget ask again."""
    if policy is None:
        raise Conflict("This site has no published policy yet.", slug="no-policy")
    if policy["version"] != version:
        raise Conflict(
            f"Policy version {version} is not current; the current version is {policy['version']}.",
            slug="stale-policy",
            extra={"current_version": policy["version"]},
        )
    return policy


def new_record(
    secret: str,
    *,
    site_id: uuid.UUID,
    event_id: uuid.UUID | None,
    visitor_id: str,
    action: str,
    surface: str,
    purposes: dict[str, bool],
    policy: Row,
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


@dataclass(frozen=True)
class ConsentDraft:
    """A resolved visitor decision, short of the policy row it names and the moment it is kept."""

    site_id: uuid.UUID
    event_id: uuid.UUID
    visitor_id: str
    action: str
    surface: str
    purposes: dict[str, bool]
    policy_version: int
    language: str
    page: PageLocation
    client: ClientFacts
    expiry_days: int

    def record(self, secret: str, policy: Row, created_at: dt.datetime) -> dict[str, Any]:
        return new_record(
            secret,
            site_id=self.site_id,
            event_id=self.event_id,
            visitor_id=self.visitor_id,
            action=self.action,
            surface=self.surface,
            purposes=self.purposes,
            policy=policy,
            language=self.language,
            page=self.page,
            client=self.client,
            request_id=None,
            created_at=created_at,
            expiry_days=self.expiry_days,
        )
