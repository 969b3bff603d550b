"""Consent records: what each purpose ends as, and the signed row that proves it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from marshmallow import ValidationError

from widget_server import receipts
from widget_server.ids import uuid7
from widget_server.problems import ProblemError
from widget_server.queries import consents
from widget_server.schemas.widget import PageLocation
from widget_server.widget_api.common import ClientFacts, check_policy, now
from widget_server.widget_api.sitecache import Purpose

# The stored row, and whether this call stored it (False: the event_id was there already).
Stored = tuple[asyncpg.Record, bool]

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

    def record(
        self, secret: str, policy: asyncpg.Record, created_at: dt.datetime
    ) -> dict[str, Any]:
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


async def store_drafts(
    conn: asyncpg.Connection, secret: str, drafts: Sequence[ConsentDraft]
) -> list[Stored | Exception]:
    """One batch of the group-commit writer: check each draft's policy against the current one,
    sign, store all in one multi-row insert, and read back the first row of every event_id that
    was stored already (earlier, or by an earlier draft of this batch). Outcomes are in order;
    a stale policy is an outcome, not an error of the batch, unless the event was stored before."""
    current = await consents.current_policies(conn, {d.site_id for d in drafts})
    records: dict[int, dict[str, Any]] = {}
    problems: dict[int, ProblemError] = {}
    for i, draft in enumerate(drafts):
        try:
            policy = check_policy(current.get(draft.site_id), draft.policy_version)
        except ProblemError as exc:
            problems[i] = exc
        else:
            records[i] = draft.record(secret, policy, now())
    inserted = {
        row["record_id"]: row for row in await consents.insert_records(conn, list(records.values()))
    }
    stored = {(row["site_id"], row["event_id"]): row for row in inserted.values()}
    # The conflicting inserts have committed (ON CONFLICT waited for them), so this read sees them.
    missing = {(d.site_id, d.event_id) for d in drafts} - stored.keys()
    for row in await consents.find_by_events(conn, missing):
        stored[row["site_id"], row["event_id"]] = row
    outcomes: list[Stored | Exception] = []
    for i, draft in enumerate(drafts):
        mine = records.get(i)
        first = stored.get((draft.site_id, draft.event_id))
        if mine is not None and mine["record_id"] in inserted:
            outcomes.append((inserted[mine["record_id"]], True))
        elif first is not None:
            outcomes.append((first, False))
        elif i in problems:
            outcomes.append(problems[i])
        else:  # its event_id was taken, and the row was gone again before the read
            outcomes.append(LookupError(f"consent event {draft.event_id} vanished while stored"))
    return outcomes
