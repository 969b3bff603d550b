"""Info requests: a form submission stored with its consent record and opt-in, and the merchant's inbox."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg

from widget_server.db.queries import consent_records, info_requests, marketing_permissions
from widget_server.domain.clock import now
from widget_server.domain.errors import Invalid, NotFound
from widget_server.domain.ids import uuid7
from widget_server.domain.origins import PageLocation
from widget_server.domain.purposes import required_only
from widget_server.domain.records import ClientFacts, new_record
from widget_server.domain.rows import Row
from widget_server.domain.spam import spam_reason
from widget_server.services.widget_sites import Site

KEYSET = info_requests.KEYSET
NO_REQUEST = "No such request for this site."


@dataclass(frozen=True)
class Submission:
    """A validated form submission, with what the site's form config makes of it."""

    body: Mapping[str, Any]
    page: PageLocation
    values: dict[str, Any]
    email: str | None
    opt_in: bool
    spam_reason: str | None

    @classmethod
    def of(cls, site: Site, body: Mapping[str, Any], page: PageLocation) -> Submission:
        values = {k: v for k, v in body["fields"].items() if v is not None}
        email_name = site.email_field
        email = values.get(email_name) if email_name else None
        opt_in: bool = body["marketing_opt_in"]
        if opt_in and site.opt_in_label is None:
            raise Invalid(
                {"marketing_opt_in": ["This site does not ask for marketing permission."]}
            )
        if opt_in and not email:
            raise Invalid({"marketing_opt_in": ["Marketing permission needs an e-mail address."]})
        reason = spam_reason(body["hp"], body["elapsed_ms"])
        return cls(body, page, values, email.lower() if email else None, opt_in, reason)


async def first_answer(
    conn: asyncpg.Connection, site_id: uuid.UUID, event_id: uuid.UUID
) -> asyncpg.Record | None:
    """The request already stored for this event, if any: a retry gets its first answer."""
    return await info_requests.by_event(conn, site_id, event_id)


async def store(
    conn: asyncpg.Connection,
    secret: str,
    site: Site,
    sub: Submission,
    policy: Row,
    client: ClientFacts,
) -> tuple[asyncpg.Record, bool]:
    """Request, accept_terms record and (ticked, not spam) permission: all or nothing.
    (row, True) when stored now; (the first row, False) when a concurrent duplicate won."""
    created_at = now()
    language = sub.body["language"] or site.default_locale
    async with conn.transaction():
        row = await info_requests.insert(
            conn,
            site_id=site.site_id,
            request_id=uuid7(),
            event_id=sub.body["event_id"],
            visitor_id=sub.body["visitor_id"],
            fields=sub.values,
            email=sub.email,
            marketing_opt_in=sub.opt_in,
            status="spam" if sub.spam_reason else "new",
            spam_reason=sub.spam_reason,
            policy_version=policy["version"],
            language=language,
            page_origin=sub.page.origin,
            page_path=sub.page.path,
            created_at=created_at,
        )
        if row is not None:
            record = new_record(
                secret,
                site_id=site.site_id,
                event_id=None,
                visitor_id=sub.body["visitor_id"],
                action="accept_terms",
                surface="form",
                purposes=required_only(site.purposes),
                policy=policy,
                language=language,
                page=sub.page,
                client=client,
                request_id=row["request_id"],
                created_at=created_at,
                expiry_days=site.consent_expiry_days,
            )
            await consent_records.insert(conn, record)
            if sub.opt_in and sub.email and sub.spam_reason is None:
                await marketing_permissions.grant(
                    conn,
                    site_id=site.site_id,
                    email=sub.email,
                    request_id=row["request_id"],
                    record_id=record["record_id"],
                    at=created_at,
                )
            return row, True
    # A concurrent duplicate won the race; ON CONFLICT waited for it to commit.
    first = await info_requests.by_event(conn, site.site_id, sub.body["event_id"])
    assert first is not None
    return first, False


# The merchant's inbox, newest first (a read with no rule of its own).
list_requests = info_requests.list_page


async def get_request(
    conn: asyncpg.Connection, site_id: uuid.UUID, request_id: uuid.UUID
) -> asyncpg.Record:
    row = await info_requests.get(conn, site_id, request_id)
    if row is None:
        raise NotFound(NO_REQUEST)
    return row


async def set_status(
    conn: asyncpg.Connection, site_id: uuid.UUID, request_id: uuid.UUID, status: str
) -> asyncpg.Record:
    row = await info_requests.set_status(conn, site_id, request_id, status)
    if row is None:
        raise NotFound(NO_REQUEST)
    return row


async def delete_request(
    conn: asyncpg.Connection, site_id: uuid.UUID, request_id: uuid.UUID
) -> None:
    """The consent record sent with it stays: it is the proof of what was agreed."""
    if not await info_requests.delete(conn, site_id, request_id):
        raise NotFound(NO_REQUEST)
