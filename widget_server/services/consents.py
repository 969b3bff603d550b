"""The consent log: decisions resolved, signed and stored once; records verified; the merchant's list."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from widget_server.db.queries import consent_records, policies
from widget_server.domain import receipts
from widget_server.domain.clock import now
from widget_server.domain.errors import Conflict, DomainError, NotFound
from widget_server.domain.origins import PageLocation
from widget_server.domain.purposes import resolve_purposes
from widget_server.domain.records import ClientFacts, ConsentDraft, check_policy
from widget_server.services.widget_sites import Site

# The stored row, and whether this call stored it (False: the event_id was there already).
Stored = tuple[asyncpg.Record, bool]
KEYSET = consent_records.KEYSET


def draft(
    site: Site, event: Mapping[str, Any], page: PageLocation, client: ClientFacts
) -> ConsentDraft:
    """A visitor's decision with every purpose resolved by the server (Invalid for unknown keys);
    the policy is checked where the row is written."""
    purposes = resolve_purposes(site.purposes, event["action"], event["purposes"], client.gpc)
    return ConsentDraft(
        site_id=site.site_id,
        event_id=event["event_id"],
        visitor_id=event["visitor_id"],
        action=event["action"],
        surface=event["surface"],
        purposes=purposes,
        policy_version=event["policy_version"],
        language=event["language"] or site.default_locale,
        page=page,
        client=client,
        expiry_days=site.consent_expiry_days,
    )


async def first_answer(
    conn: asyncpg.Connection, site_id: uuid.UUID, event_id: uuid.UUID
) -> asyncpg.Record | None:
    """The record already stored for this event, if any: a retry gets its first answer."""
    return await consent_records.by_event(conn, site_id, event_id)


async def store_one(conn: asyncpg.Connection, secret: str, draft: ConsentDraft) -> Stored:
    """One decision, one policy read, one insert (Conflict when the policy is not current)."""
    policy = check_policy(await policies.current(conn, draft.site_id), draft.policy_version)
    return await consent_records.insert(conn, draft.record(secret, policy, now()))


async def store_drafts(
    conn: asyncpg.Connection, secret: str, drafts: Sequence[ConsentDraft]
) -> list[Stored | Exception]:
    """One batch of the group-commit writer: check each draft's policy against the current one,
    sign, store all in one multi-row insert, and read back the first row of every event_id that
    was stored already (earlier, or by an earlier draft of this batch). Outcomes are in order;
    a stale policy is an outcome, not an error of the batch, unless the event was stored before."""
    current = await policies.current_of_sites(conn, {d.site_id for d in drafts})
    records: dict[int, dict[str, Any]] = {}
    problems: dict[int, DomainError] = {}
    for i, d in enumerate(drafts):
        try:
            policy = check_policy(current.get(d.site_id), d.policy_version)
        except Conflict as exc:
            problems[i] = exc
        else:
            records[i] = d.record(secret, policy, now())
    inserted = {
        row["record_id"]: row
        for row in await consent_records.insert_many(conn, list(records.values()))
    }
    stored = {(row["site_id"], row["event_id"]): row for row in inserted.values()}
    # The conflicting inserts have committed (ON CONFLICT waited for them), so this read sees them.
    missing = {(d.site_id, d.event_id) for d in drafts} - stored.keys()
    for row in await consent_records.by_events(conn, missing):
        stored[row["site_id"], row["event_id"]] = row
    outcomes: list[Stored | Exception] = []
    for i, d in enumerate(drafts):
        mine = records.get(i)
        first = stored.get((d.site_id, d.event_id))
        if mine is not None and mine["record_id"] in inserted:
            outcomes.append((inserted[mine["record_id"]], True))
        elif first is not None:
            outcomes.append((first, False))
        elif i in problems:
            outcomes.append(problems[i])
        else:  # its event_id was taken, and the row was gone again before the read
            outcomes.append(LookupError(f"consent event {d.event_id} vanished while stored"))
    return outcomes


async def verify_record(
    conn: asyncpg.Connection, secret: str, record_id: uuid.UUID
) -> tuple[bool, asyncpg.Record]:
    """(whether the receipt still matches the stored fields, the record); NotFound if none."""
    record = await consent_records.by_id(conn, record_id)
    if record is None:
        raise NotFound(f"No consent record {record_id}.")
    return receipts.verify(secret, dict(record.items())), record


def with_verdict(secret: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """The record and whether its receipt still matches its fields."""
    return {**dict(row), "verified": receipts.verify(secret, row)}


# The merchant's consent log, newest first (a read with no rule of its own).
list_consents = consent_records.list_page
