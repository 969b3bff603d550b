"""Exports of requests and consents: the columns a CSV needs, and a server-side cursor over the rows."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from widget_server.db.queries import consent_records, info_requests
from widget_server.db.queries.consent_records import ConsentFilter
from widget_server.db.queries.info_requests import RequestFilter
from widget_server.domain.rows import Row


def _union(configured: Sequence[str], found: Sequence[str]) -> list[str]:
    return list(dict.fromkeys([*configured, *found]))


async def request_field_names(
    conn: asyncpg.Connection, site: Row, filt: RequestFilter
) -> list[str]:
    """The form's fields, then any other field name the matching rows hold (older forms)."""
    found = await info_requests.field_names_found(conn, site["site_id"], filt)
    return _union([f["name"] for f in site["form"]["fields"]], found)


async def consent_purpose_keys(
    conn: asyncpg.Connection, site: Row, filt: ConsentFilter
) -> list[str]:
    """The site's purposes, then any other purpose key the matching rows hold."""
    found = await consent_records.purpose_keys_found(conn, site["site_id"], filt)
    return _union([p["key"] for p in site["purposes"]], found)


async def requests_cursor(
    conn: asyncpg.Connection, site: Row, filt: RequestFilter
) -> asyncpg.cursor.Cursor:
    """Every matching request, newest first; call inside a (read-only) transaction."""
    return await info_requests.open_export(conn, site["site_id"], filt)


async def consents_cursor(
    conn: asyncpg.Connection, site: Row, filt: ConsentFilter
) -> asyncpg.cursor.Cursor:
    """Every matching consent record, newest first; call inside a (read-only) transaction."""
    return await consent_records.open_export(conn, site["site_id"], filt)
