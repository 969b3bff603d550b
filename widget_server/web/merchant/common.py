"""What every merchant handler does: read input, find the caller's own site, answer a page."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiohttp import web
from marshmallow import EXCLUDE, Schema

from widget_server.db.queries.keyset import Keyset, TimeWindow
from widget_server.domain.errors import Invalid
from widget_server.domain.rows import Row
from widget_server.keys import DB, SETTINGS
from widget_server.schemas.loading import load
from widget_server.services import sites
from widget_server.web.http import MERCHANT_BODY_LIMIT, json_response, read_json
from widget_server.web.merchant import pagination
from widget_server.web.merchant.auth import principal
from widget_server.web.merchant.ownership import site_key_in, uuid_in


async def read_body(request: web.Request) -> Any:
    """The JSON body. No body at all (and no claim of JSON) is an empty object, so a `POST` whose
    fields all have defaults works bare, as `curl -X POST` or an HTTP library sends it."""
    if not request.body_exists and request.content_type != "application/json":
        return {}
    return await read_json(request, limit=MERCHANT_BODY_LIMIT)


def load_query(request: web.Request, schema: Schema) -> dict[str, Any]:
    repeated = sorted({k for k in request.query if len(request.query.getall(k)) > 1})
    if repeated:
        raise Invalid({k: ["Give this parameter once."] for k in repeated})
    # Unknown parameters are ignored, as most HTTP APIs do (cache busters, client extras);
    # unknown *body* fields stay errors.
    return load(schema, dict(request.query), unknown=EXCLUDE)


def secret(request: web.Request) -> str:
    return request.app[SETTINGS].secret_key.reveal()


def public_url(request: web.Request) -> str:
    return request.app[SETTINGS].public_url


async def owned_site(request: web.Request) -> asyncpg.Record:
    """The path's site if the caller's merchant owns it; anything else is the same 404."""
    async with request.app[DB].connection() as conn:
        return await sites.owned_site(
            conn, principal(request).merchant_id, site_key_in(request.match_info)
        )


def path_uuid(request: web.Request, name: str) -> uuid.UUID:
    """A UUID from the path; anything else names nothing here, so 404."""
    return uuid_in(request.match_info, name)


def time_window(site: Row, query: Mapping[str, Any]) -> TimeWindow:
    """`since`/`until`, both inclusive; a bare date is a whole day in the site's time zone."""
    zone = zoneinfo.ZoneInfo(site["time_zone"])
    since, until = query.get("since"), query.get("until")
    start = None if since is None else _utc(_day_start, since, zone)
    end = None if until is None else _utc(_after, until, zone)
    if start is not None and end is not None and start >= end:
        raise Invalid({"until": ["Must not be before since."]})
    return TimeWindow(start, end)


def _day_start(value: dt.date, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time(), zone)


def _after(value: dt.date, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """The first instant after `value`: the next day's start, or 1µs later (Postgres keeps µs)."""
    if isinstance(value, dt.datetime):
        return value + dt.timedelta(microseconds=1)
    return dt.datetime.combine(value + dt.timedelta(days=1), dt.time(), zone)


def _utc(
    make: Callable[[dt.date, zoneinfo.ZoneInfo], dt.datetime],
    value: dt.date,
    zone: zoneinfo.ZoneInfo,
) -> dt.datetime:
    """The bound in UTC; at the ends of the calendar (years 1 and 9999) the arithmetic overflows,
    and the bound is then the first or last instant a datetime can hold."""
    try:
        return make(value, zone).astimezone(dt.UTC)
    except OverflowError:
        edge = dt.datetime.max if value.year > 1 else dt.datetime.min
        return edge.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class ListRequest:
    """One page of a cursor-paginated list: the query read, and where the page starts. Cursors are
    signed for `scope` (the list and the merchant or site it belongs to): they work for no other."""

    request: web.Request
    keyset: Keyset
    scope: str
    query: dict[str, Any]
    after: tuple[Any, ...] | None

    @classmethod
    def read(cls, request: web.Request, keyset: Keyset, scope: str, schema: Schema) -> ListRequest:
        query = load_query(request, schema)
        after = pagination.position_after(secret(request), scope, keyset, query.get("cursor"))
        return cls(request, keyset, scope, query, after)

    @property
    def limit(self) -> int:
        """Rows to fetch: one more than shown, which only says that more exist."""
        return int(self.query["limit"]) + 1

    def answer(
        self, rows: Sequence[Any], dump: Callable[[Sequence[Any]], list[Any]]
    ) -> web.Response:
        """`{data, next_cursor}`."""
        shown = rows[: self.query["limit"]]
        cursor = None
        if len(rows) > len(shown):
            position = self.keyset.position(shown[-1])
            cursor = pagination.encode(secret(self.request), self.scope, position)
        return json_response({"data": dump(shown), "next_cursor": cursor})
