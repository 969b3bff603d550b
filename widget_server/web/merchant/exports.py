"""Streamed CSV and NDJSON exports of requests and consents, from a server-side cursor."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

from widget_server.domain.rows import Row
from widget_server.keys import EXPORT_DB, REQUEST_ID
from widget_server.schemas.merchant import (
    ConsentExportQuery,
    ConsentRecordSchema,
    InfoRequestSchema,
    RequestExportQuery,
)
from widget_server.services import consents, exports
from widget_server.web.merchant.common import load_query, owned_site, secret
from widget_server.web.merchant.consents import consent_filter
from widget_server.web.merchant.requests import request_filter
from widget_server.web.routes import Route

log = logging.getLogger("widget_server.web.merchant.exports")
BATCH = 500  # rows per cursor fetch and per chunk written: memory stays at about one batch
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MEDIA = {"csv": "text/csv", "ndjson": "application/x-ndjson"}
REQUEST_CSV = (
    "id",
    "created_at",
    "updated_at",
    "status",
    "spam_reason",
    "email",
    "marketing_opt_in",
    "visitor_id",
    "policy_version",
    "language",
    "page_origin",
    "page_path",
    "page_url",
)
CONSENT_CSV = (
    "id",
    "created_at",
    "valid_until",
    "visitor_id",
    "action",
    "surface",
    "policy_version",
    "policy_sha256",
    "language",
    "page_origin",
    "page_path",
    "page_url",
    "gpc",
    "user_agent",
    "widget_version",
    "request_id",
    "event_id",
    "receipt",
    "verified",
)
Render = Callable[[Sequence[Any]], str]


def neutralize(text: str) -> str:
    """Spreadsheets run a cell that starts like a formula; a leading `'` makes it text (OWASP)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return neutralize(value)
    if isinstance(value, dict | list):
        return neutralize(json.dumps(value, ensure_ascii=False))
    return neutralize(str(value))


def csv_renderer(
    columns: Sequence[str], nested: str, keys: Sequence[str], dumped: Callable[[Any], list[Any]]
) -> Render:
    """Fixed columns, then one column per key of the `nested` object (form fields or purposes)."""

    def render(rows: Sequence[Any]) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        for item in dumped(rows):
            extra = item[nested]
            writer.writerow([cell(item[c]) for c in columns] + [cell(extra.get(k)) for k in keys])
        return out.getvalue()

    return render


def csv_header(columns: Sequence[str], nested: str, keys: Sequence[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow([*columns, *(neutralize(f"{nested}.{k}") for k in keys)])
    return out.getvalue()


def ndjson_renderer(dumped: Callable[[Any], list[Any]]) -> Render:
    def render(rows: Sequence[Any]) -> str:
        return "".join(
            json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n"
            for item in dumped(rows)
        )

    return render


async def _stream(
    request: web.Request, cursor: Any, filename: str, fmt: str, header: str, render: Render
) -> web.StreamResponse:
    first = await cursor.fetch(
        BATCH
    )  # before the status line goes out: a failure here is still a 503
    response = web.StreamResponse(
        headers={
            "Content-Type": f"{MEDIA[fmt]}; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}.{fmt}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            # Set here: the request-id middleware's header comes after the status line has gone.
            "X-Request-Id": request[REQUEST_ID],
        }
    )
    if request.method == "HEAD":  # the headers a GET would send, and no body
        await response.prepare(request)
        return response
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        if header:
            await response.write(header.encode())
        rows = first
        while rows:
            await response.write(
                render(rows).encode()
            )  # waits while the client is slow: backpressure
            rows = await cursor.fetch(BATCH) if len(rows) == BATCH else []
    except asyncio.CancelledError:
        raise
    except ConnectionError:
        log.info("export of %s: the client went away", filename)
    except Exception:
        # The status line is gone; closing without the last chunk tells the client the file is cut short.
        log.exception("export of %s failed after it started", filename)
        if request.transport is not None:
            request.transport.close()
    return response


def _filename(site: Row, what: str) -> str:
    return f"{site['site_key']}-{what}-{dt.datetime.now(dt.UTC):%Y%m%d}"


async def _export(
    request: web.Request,
    site: Row,
    fmt: str,
    what: str,
    rows: Any,
    csv_columns: Sequence[str],
    nested: str,
    dumped: Callable[[Sequence[Any]], list[Any]],
) -> web.StreamResponse:
    """Stream one export from a read-only snapshot: `rows` gives (CSV keys, cursor) in it."""
    async with (
        request.app[EXPORT_DB].connection() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        # The same snapshot as the rows, so the CSV header names every key they hold.
        keys, cursor = await rows(conn, site, fmt == "csv")
        if fmt == "csv":
            header = csv_header(csv_columns, nested, keys)
            render = csv_renderer(csv_columns, nested, keys, dumped)
        else:
            header, render = "", ndjson_renderer(dumped)
        return await _stream(request, cursor, _filename(site, what), fmt, header, render)


async def export_requests(request: web.Request) -> web.StreamResponse:
    site = await owned_site(request)
    query = load_query(request, RequestExportQuery())
    filt = request_filter(site, query)

    async def rows(conn: Any, site: Row, with_keys: bool) -> tuple[list[str], Any]:
        keys = await exports.request_field_names(conn, site, filt) if with_keys else []
        return keys, await exports.requests_cursor(conn, site, filt)

    dump = InfoRequestSchema(many=True).dump
    fmt = query["format"]
    return await _export(request, site, fmt, "requests", rows, REQUEST_CSV, "fields", dump)


async def export_consents(request: web.Request) -> web.StreamResponse:
    site = await owned_site(request)
    query = load_query(request, ConsentExportQuery())
    filt = consent_filter(site, query)
    key, schema = secret(request), ConsentRecordSchema(many=True)

    def dumped(rows: Sequence[Any]) -> list[Any]:
        return list(schema.dump([consents.with_verdict(key, r) for r in rows]))

    async def rows(conn: Any, site: Row, with_keys: bool) -> tuple[list[str], Any]:
        keys = await exports.consent_purpose_keys(conn, site, filt) if with_keys else []
        return keys, await exports.consents_cursor(conn, site, filt)

    fmt = query["format"]
    return await _export(request, site, fmt, "consents", rows, CONSENT_CSV, "purposes", dumped)


EXPORT_MEDIA = ("text/csv", "application/x-ndjson")
ROUTES = (
    Route(
        "GET",
        "/v1/sites/{site_key}/requests/export",
        export_requests,
        "Export info requests",
        "Info requests",
        query=RequestExportQuery,
        media=EXPORT_MEDIA,
        description="Every matching request, streamed, newest first; the same filters as the list. CSV has "
        "fixed columns, then `fields.NAME` per form field; cells starting with =, +, -, @, tab or CR get "
        "a leading `'`. NDJSON has one list item per line, texts exact.",
    ),
    Route(
        "GET",
        "/v1/sites/{site_key}/consents/export",
        export_consents,
        "Export the consent log",
        "Consent log",
        query=ConsentExportQuery,
        media=EXPORT_MEDIA,
        description="Every matching record, streamed, newest first; CSV has a `purposes.KEY` column per "
        "purpose.",
    ),
)
