"""POST /v1/widget/SITE_KEY/consents: one visitor decision, resolved, signed and logged once."""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp import web
from marshmallow import ValidationError

from ..http import json_response
from ..keys import DB, SETTINGS
from ..problems import validation_error
from ..queries import consents, policies
from ..schemas.widget import CONSENT_EVENT
from .common import check_page, check_policy, client_facts, messages_of, now, read_write, rfc3339
from .cors import widget_endpoint
from .records import new_record, resolve_purposes
from .sitecache import Site


def _answer(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["record_id"]),
        "created_at": rfc3339(row["created_at"]),
        "receipt": row["receipt"],
    }


@widget_endpoint
async def post_consent(request: web.Request, site: Site) -> web.StreamResponse:
    event = await read_write(request, site, CONSENT_EVENT)
    async with request.app[DB].connection() as conn:
        # A retry of a stored decision gets its first answer, even if the policy or the site's
        # purposes moved on since (its first answer may have been lost on the way back).
        first = await consents.find_by_event(conn, site.site_id, event["event_id"])
        if first is not None:
            return json_response(_answer(first))
        page = check_page(site, event["page_url"])
        client = client_facts(request, site, event)
        try:
            purposes = resolve_purposes(
                site.purposes, event["action"], event["purposes"], client.gpc
            )
        except ValidationError as exc:
            raise validation_error(messages_of(exc)) from None
        policy = check_policy(await policies.current(conn, site.site_id), event["policy_version"])
        record = new_record(
            request.app[SETTINGS].secret_key.reveal(),
            site_id=site.site_id,
            event_id=event["event_id"],
            visitor_id=event["visitor_id"],
            action=event["action"],
            surface=event["surface"],
            purposes=purposes,
            policy=policy,
            language=event["language"] or site.default_locale,
            page=page,
            client=client,
            request_id=None,
            created_at=now(),
            expiry_days=site.consent_expiry_days,
        )
        row, created = await consents.insert_record(conn, record)
    return json_response(_answer(row), status=201 if created else 200)
