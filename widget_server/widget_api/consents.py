"""POST /v1/widget/SITE_KEY/consents: one visitor decision, resolved, signed and logged once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
from aiohttp import web
from marshmallow import ValidationError

from widget_server.db import TRANSIENT_ERRORS
from widget_server.http import json_response
from widget_server.keys import DB, SETTINGS
from widget_server.problems import ProblemError, validation_error
from widget_server.queries import consents, policies
from widget_server.schemas.widget import CONSENT_EVENT
from widget_server.widget_api.batch import GroupCommit
from widget_server.widget_api.common import (
    check_page,
    check_policy,
    client_facts,
    messages_of,
    now,
    read_write,
    rfc3339,
)
from widget_server.widget_api.cors import widget_endpoint
from widget_server.widget_api.records import ConsentDraft, Stored, resolve_purposes, store_drafts
from widget_server.widget_api.sitecache import Site
from widget_server.widget_api.state import CONSENTS

MAX_BATCH = 500
# Errors that are no single row's fault: the whole batch fails at once (503), no row-by-row retry.
WHOLE_BATCH_ERRORS: tuple[type[BaseException], ...] = (
    *TRANSIENT_ERRORS,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.QueryCanceledError,
)


def _answer(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["record_id"]),
        "created_at": rfc3339(row["created_at"]),
        "receipt": row["receipt"],
    }


def _row_may_be_at_fault(exc: Exception) -> bool:
    return not isinstance(exc, WHOLE_BATCH_ERRORS)


def consent_writer(app: web.Application) -> GroupCommit[ConsentDraft, Stored]:
    """The per-process group-commit writer for consent records."""

    async def write(drafts: Sequence[ConsentDraft]) -> list[Stored | Exception]:
        async with app[DB].connection() as conn:
            return await store_drafts(conn, app[SETTINGS].secret_key.reveal(), drafts)

    return GroupCommit(write, max_batch=MAX_BATCH, isolate=_row_may_be_at_fault)


def _draft(request: web.Request, site: Site, event: dict[str, Any]) -> ConsentDraft:
    """Page (422) and purposes (422) checked; the policy is checked where the row is written."""
    page = check_page(site, event["page_url"])
    client = client_facts(request, site, event)
    try:
        purposes = resolve_purposes(site.purposes, event["action"], event["purposes"], client.gpc)
    except ValidationError as exc:
        raise validation_error(messages_of(exc)) from None
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


@widget_endpoint
async def post_consent(request: web.Request, site: Site) -> web.StreamResponse:
    event = await read_write(request, site, CONSENT_EVENT)
    if not request.app[SETTINGS].group_commit:
        return await _write_alone(request, site, event)
    try:
        draft = _draft(request, site, event)
    except ProblemError:
        # A retry of a stored decision gets its first answer, even if the site's purposes moved
        # on since (its first answer may have been lost on the way back). A new event that
        # passes here needs no such read: the batch's insert finds a stored one by itself.
        async with request.app[DB].connection() as conn:
            first = await consents.find_by_event(conn, site.site_id, event["event_id"])
        if first is None:
            raise
        return json_response(_answer(first))
    # Acknowledged only once committed, in one insert with whatever else arrived meanwhile.
    row, created = await request.app[CONSENTS].submit(draft)
    return json_response(_answer(row), status=201 if created else 200)


async def _write_alone(request: web.Request, site: Site, event: dict[str, Any]) -> web.Response:
    """WIDGET_GROUP_COMMIT=off: one lookup, one policy read and one insert per consent."""
    async with request.app[DB].connection() as conn:
        # A retry of a stored decision gets its first answer, even if the policy or the site's
        # purposes moved on since (its first answer may have been lost on the way back).
        first = await consents.find_by_event(conn, site.site_id, event["event_id"])
        if first is not None:
            return json_response(_answer(first))
        draft = _draft(request, site, event)
        policy = check_policy(await policies.current(conn, site.site_id), draft.policy_version)
        record = draft.record(request.app[SETTINGS].secret_key.reveal(), policy, now())
        row, created = await consents.insert_record(conn, record)
    return json_response(_answer(row), status=201 if created else 200)
