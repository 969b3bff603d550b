"""POST /v1/widget/SITE_KEY/consents: one visitor decision, resolved, signed and logged once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
from aiohttp import web

from widget_server.db.pool import TRANSIENT_ERRORS, Database
from widget_server.domain.clock import rfc3339
from widget_server.domain.errors import DomainError
from widget_server.domain.records import ConsentDraft
from widget_server.keys import DB, SETTINGS
from widget_server.runtime.groupcommit import GroupCommit
from widget_server.schemas.widget import CONSENT_EVENT
from widget_server.services import consents
from widget_server.services.consents import Stored
from widget_server.services.widget_sites import Site
from widget_server.web.http import json_response
from widget_server.web.widget.common import check_page, client_facts, read_write
from widget_server.web.widget.state import CONSENTS

MAX_BATCH = 500
# Errors that are no single row's fault: the whole batch fails at once (503), no row-by-row retry.
WHOLE_BATCH_ERRORS: tuple[type[BaseException], ...] = (
    *TRANSIENT_ERRORS,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.QueryCanceledError,
)


def answer(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["record_id"]),
        "created_at": rfc3339(row["created_at"]),
        "receipt": row["receipt"],
    }


def _row_may_be_at_fault(exc: Exception) -> bool:
    return not isinstance(exc, WHOLE_BATCH_ERRORS)


def consent_writer(db: Database, secret: str) -> GroupCommit[ConsentDraft, Stored]:
    """The per-process group-commit writer for consent records."""

    async def write(drafts: Sequence[ConsentDraft]) -> list[Stored | Exception]:
        async with db.connection() as conn:
            return await consents.store_drafts(conn, secret, drafts)

    return GroupCommit(write, max_batch=MAX_BATCH, isolate=_row_may_be_at_fault)


def _draft(request: web.Request, site: Site, event: dict[str, Any]) -> ConsentDraft:
    page = check_page(site, event["page_url"])
    return consents.draft(site, event, page, client_facts(request, site, event))


async def post_consent(request: web.Request, site: Site) -> web.StreamResponse:
    event = await read_write(request, site, CONSENT_EVENT)
    if not request.app[SETTINGS].group_commit:
        return await _write_alone(request, site, event)
    try:
        draft = _draft(request, site, event)
    except DomainError:
        # A retry of a stored decision gets its first answer, even if the site's purposes moved
        # on since (its first answer may have been lost on the way back). A new event that
        # passes here needs no such read: the batch's insert finds a stored one by itself.
        async with request.app[DB].connection() as conn:
            first = await consents.first_answer(conn, site.site_id, event["event_id"])
        if first is None:
            raise
        return json_response(answer(first))
    # Acknowledged only once committed, in one insert with whatever else arrived meanwhile.
    row, created = await request.app[CONSENTS].submit(draft)
    return json_response(answer(row), status=201 if created else 200)


async def _write_alone(request: web.Request, site: Site, event: dict[str, Any]) -> web.Response:
    """WIDGET_GROUP_COMMIT=off: one lookup, one policy read and one insert per consent."""
    async with request.app[DB].connection() as conn:
        # A retry of a stored decision gets its first answer, even if the policy or the site's
        # purposes moved on since (its first answer may have been lost on the way back).
        first = await consents.first_answer(conn, site.site_id, event["event_id"])
        if first is not None:
            return json_response(answer(first))
        draft = _draft(request, site, event)
        row, created = await consents.store_one(
            conn, request.app[SETTINGS].secret_key.reveal(), draft
        )
    return json_response(answer(row), status=201 if created else 200)
