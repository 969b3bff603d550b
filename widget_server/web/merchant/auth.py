"""Bearer API keys: who is calling, with which scopes; 401 without a valid key, 403 for a write by a read key
(but 404 first when the path names something that is not the caller's)."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass

from aiohttp import web

from widget_server.domain import apikeys
from widget_server.domain.errors import Forbidden, NotFound, Unauthorized
from widget_server.keys import DB
from widget_server.services import api_keys
from widget_server.web.merchant.ownership import path_is_owned
from widget_server.web.routes import Handler


@dataclass(frozen=True)
class Principal:
    """The merchant behind the key of this request."""

    merchant_id: uuid.UUID
    key_id: uuid.UUID
    scopes: frozenset[str]


PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("merchant_principal", Principal)


def principal(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def bearer_secret(header: str | None) -> str:
    """The secret of an `Authorization: Bearer wsk_…` header, or Unauthorized."""
    if not header:
        raise Unauthorized("Send an API key: Authorization: Bearer wsk_…")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not apikeys.well_formed(token):
        raise Unauthorized("The Authorization header is not `Bearer wsk_…` with a well-formed key.")
    return token


async def authenticate(request: web.Request, *, write: bool) -> Principal:
    secret = bearer_secret(request.headers.get("Authorization"))
    async with request.app[DB].connection() as conn:
        row = await api_keys.authenticate(conn, secret)
        scopes = frozenset(row["scopes"])
        if write and "write" not in scopes:
            # Another merchant's anything is 404, never 403: the scope is judged only on one's own.
            if not await path_is_owned(conn, row["merchant_id"], request.match_info):
                raise NotFound("No such resource for this key's merchant.")
            raise Forbidden("This API key may only read; use a key with the write scope.")
    return Principal(row["merchant_id"], row["key_id"], scopes)


def require_key(handler: Handler, *, write: bool) -> Handler:
    """Wrap a handler: authenticate first, then answer with `Cache-Control: no-store` (private data)."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        request[PRINCIPAL] = await authenticate(request, write=write)
        response = await handler(request)
        if not response.prepared:  # a streamed export sets its own headers before it starts
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return wrapped
