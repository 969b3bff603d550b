"""What every merchant handler does: load input, find the caller's own site, answer a page."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aiohttp import web
from marshmallow import EXCLUDE, Schema, ValidationError

from widget_server.http import MERCHANT_BODY_LIMIT, json_response, read_json
from widget_server.keys import DB, SETTINGS
from widget_server.problems import ProblemError, validation_error
from widget_server.queries import merchant_sites
from widget_server.queries.merchant_filters import TimeWindow
from widget_server.schemas.merchant import unstorable_text
from widget_server.merchant_api import pagination
from widget_server.merchant_api.auth import principal
from widget_server.merchant_api.ownership import not_found, site_key_in, uuid_in

__all__ = ["not_found", "site_key_in"]  # re-exported for the handlers


def load(schema: Schema, data: Any, **kwargs: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ProblemError(
            422, "The body must be a JSON object.", errors={"_body": ["Expected an object."]}
        )
    unstorable = unstorable_text(data)
    if unstorable:
        raise validation_error(unstorable)
    try:
        loaded: dict[str, Any] = schema.load(data, **kwargs)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise validation_error(messages) from None
    return loaded


async def read_body(request: web.Request) -> Any:
    """The JSON body. No body at all (and no claim of JSON) is an empty object, so a `POST` whose
    fields all have defaults works bare, as `curl -X POST` or an HTTP library sends it."""
    if not request.body_exists and request.content_type != "application/json":
        return {}
    return await read_json(request, limit=MERCHANT_BODY_LIMIT)


async def load_body(request: web.Request, schema: Schema) -> dict[str, Any]:
    return load(schema, await read_body(request))


def load_query(request: web.Request, schema: Schema) -> dict[str, Any]:
    repeated = sorted({k for k in request.query if len(request.query.getall(k)) > 1})
    if repeated:
        raise validation_error({k: ["Give this parameter once."] for k in repeated})
    # Unknown parameters are ignored, as most HTTP APIs do (cache busters, client extras);
    # unknown *body* fields stay errors.
    return load(schema, dict(request.query), unknown=EXCLUDE)


def secret(request: web.Request) -> str:
    return request.app[SETTINGS].secret_key.reveal()


def public_url(request: web.Request) -> str:
    return request.app[SETTINGS].public_url


async def owned_site(request: web.Request) -> dict[str, Any]:
    """The path's site if the caller's merchant owns it; anything else is the same 404."""
    async with request.app[DB].connection() as conn:
        site = await merchant_sites.owned_site(
            conn, principal(request).merchant_id, site_key_in(request.match_info)
        )
    if site is None:
        raise not_found("No such site for this key's merchant.")
    return dict(site)


def path_uuid(request: web.Request, name: str) -> uuid.UUID:
    """A UUID from the path; anything else names nothing here, so 404."""
    return uuid_in(request.match_info, name)


def time_window(site: Mapping[str, Any], query: Mapping[str, Any]) -> TimeWindow:
    """`since`/`until`, both inclusive; a bare date is a whole day in the site's time zone."""
    zone = zoneinfo.ZoneInfo(site["time_zone"])
    since, until = query.get("since"), query.get("until")
    start = None if since is None else _utc(_day_start, since, zone)
    end = None if until is None else _utc(_after, until, zone)
    if start is not None and end is not None and start >= end:
        raise validation_error({"until": ["Must not be before since."]})
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


def page(
    rows: Sequence[Any],
    limit: int,
    dump: Callable[[Sequence[Any]], list[Any]],
    next_cursor: Callable[[Any], str],
) -> web.Response:
    """`{data, next_cursor}` from up to limit + 1 rows (the extra one only says that more exist)."""
    shown = rows[:limit]
    cursor = next_cursor(shown[-1]) if len(rows) > limit else None
    return json_response({"data": dump(shown), "next_cursor": cursor})


def time_cursor(request: web.Request, scope: str, id_column: str) -> Callable[[Any], str]:
    key = secret(request)
    return lambda row: pagination.encode_time_key(key, scope, row["created_at"], row[id_column])
