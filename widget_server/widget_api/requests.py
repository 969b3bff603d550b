"""POST /v1/widget/SITE_KEY/requests: an info request, its consent record and opt-in, at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiohttp import web

from widget_server.http import json_response
from widget_server.keys import DB, SETTINGS
from widget_server.problems import ProblemError, validation_error
from widget_server.queries import consents, permissions, policies
from widget_server.queries import requests as info_requests
from widget_server.schemas.widget import PageLocation, email_field
from widget_server.widget_api.common import (
    ClientFacts,
    check_page,
    check_policy,
    client_facts,
    now,
    read_write,
    rfc3339,
)
from widget_server.widget_api.cors import widget_endpoint
from widget_server.widget_api.records import new_record
from widget_server.widget_api.sitecache import Site
from widget_server.widget_api.state import LIMITER

MIN_FILL_MS = 1500


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
    def of(cls, site: Site, body: Mapping[str, Any]) -> Submission:
        values = {k: v for k, v in body["fields"].items() if v is not None}
        email_name = email_field(site.specs)
        email = values.get(email_name) if email_name else None
        opt_in: bool = body["marketing_opt_in"]
        if opt_in and site.opt_in_label is None:
            raise validation_error(
                {"marketing_opt_in": ["This site does not ask for marketing permission."]}
            )
        if opt_in and not email:
            raise validation_error(
                {"marketing_opt_in": ["Marketing permission needs an e-mail address."]}
            )
        # Bots get the same answer as people, so they learn nothing from it.
        spam = (
            "honeypot" if body["hp"] else "too_fast" if body["elapsed_ms"] < MIN_FILL_MS else None
        )
        page = check_page(site, body["page_url"])
        return cls(body, page, values, email.lower() if email else None, opt_in, spam)


async def store(
    conn: asyncpg.Connection,
    secret: str,
    site: Site,
    sub: Submission,
    policy: asyncpg.Record,
    client: ClientFacts,
) -> asyncpg.Record | None:
    """Request, accept_terms record and (ticked, not spam) permission: all or nothing.
    None when a concurrent duplicate of this event_id was stored first."""
    created_at = now()
    language = sub.body["language"] or site.default_locale
    async with conn.transaction():
        row = await info_requests.insert_request(
            conn,
            site_id=site.site_id,
            event_id=sub.body["event_id"],
            visitor_id=sub.body["visitor_id"],
            fields=sub.values,
            email=sub.email,
            marketing_opt_in=sub.opt_in,
            spam_reason=sub.spam_reason,
            policy_version=policy["version"],
            language=language,
            page_origin=sub.page.origin,
            page_path=sub.page.path,
            created_at=created_at,
        )
        if row is None:
            return None
        record = new_record(
            secret,
            site_id=site.site_id,
            event_id=None,
            visitor_id=sub.body["visitor_id"],
            action="accept_terms",
            surface="form",
            # Agreeing to the terms grants what is always granted and decides nothing else.
            purposes={p.key: True for p in site.purposes if p.required},
            policy=policy,
            language=language,
            page=sub.page,
            client=client,
            request_id=row["request_id"],
            created_at=created_at,
            expiry_days=site.consent_expiry_days,
        )
        await consents.insert_record(conn, record)
        if sub.opt_in and sub.email and sub.spam_reason is None:
            await permissions.grant(
                conn,
                site_id=site.site_id,
                email=sub.email,
                request_id=row["request_id"],
                record_id=record["record_id"],
                at=created_at,
            )
    return row


def _answer(row: asyncpg.Record) -> dict[str, Any]:
    return {"id": str(row["request_id"]), "created_at": rfc3339(row["created_at"])}


@widget_endpoint
async def post_request(request: web.Request, site: Site) -> web.StreamResponse:
    body = await read_write(request, site, site.request_schema())
    async with request.app[DB].connection() as conn:
        # Like consents: a retry gets its first answer, whatever changed on the site since.
        first = await info_requests.find_by_event(conn, site.site_id, body["event_id"])
        if first is not None:
            return json_response(_answer(first))
        sub = Submission.of(site, body)
        client = client_facts(request, site, body)
        policy = check_policy(await policies.current(conn, site.site_id), body["policy_version"])
        wait = request.app[LIMITER].info_request(site.site_id)
        if wait is not None:
            raise ProblemError(
                429,
                "This site has received too many requests; try again later.",
                headers={"Retry-After": str(wait)},
            )
        row = await store(
            conn, request.app[SETTINGS].secret_key.reveal(), site, sub, policy, client
        )
        if row is None:
            # A concurrent duplicate won the race; ON CONFLICT waited for it to commit.
            row = await info_requests.find_by_event(conn, site.site_id, body["event_id"])
            assert row is not None
            return json_response(_answer(row))
    return json_response(_answer(row), status=201)
