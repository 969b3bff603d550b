"""Bearer API keys: who is calling, with which scopes; 401 without a valid key, 403 for a write by a read key
(but 404 first when the path names something that is not the caller's)."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass

from aiohttp import web

from widget_server import apikeys
from widget_server.keys import DB
from widget_server.problems import ProblemError
from widget_server.queries import merchant_keys
from widget_server.merchant_api.operations import Handler
from widget_server.merchant_api.ownership import path_is_owned

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="widget-server"'}
# Compared against when no key row matches, so an unknown key costs the same work as a wrong one.
_NO_DIGEST = apikeys.digest_of("wsk_" + "0" * 43)


@dataclass(frozen=True)
class Principal:
    """The merchant behind the key of this request."""

    merchant_id: uuid.UUID
    key_id: uuid.UUID
    scopes: frozenset[str]


PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("merchant_principal", Principal)


def principal(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, detail, headers=CHALLENGE)


def bearer_secret(header: str | None) -> str:
    """The secret of an `Authorization: Bearer wsk_…` header, or a 401."""
    if not header:
        raise _unauthorized("Send an API key: Authorization: Bearer wsk_…")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not apikeys.well_formed(token):
        raise _unauthorized(
            "The Authorization header is not `Bearer wsk_…` with a well-formed key."
        )
    return token


async def authenticate(request: web.Request, *, write: bool) -> Principal:
    secret = bearer_secret(request.headers.get("Authorization"))
    # Looked up on every request (one indexed row), so a revocation holds from the next request on.
    async with request.app[DB].connection() as conn:
        row = await merchant_keys.find_for_auth(conn, apikeys.lookup_of(secret))
        digest = row["secret_sha256"] if row is not None else _NO_DIGEST
        if not apikeys.matches(secret, digest) or row is None:
            raise _unauthorized("This API key is not valid.")
        if row["revoked_at"] is not None:
            raise _unauthorized("This API key has been revoked.")
        scopes = frozenset(row["scopes"])
        if write and "write" not in scopes:
            # Another merchant's anything is 404, never 403: the scope is judged only on one's own.
            if not await path_is_owned(conn, row["merchant_id"], request.match_info):
                raise ProblemError(404, "No such resource for this key's merchant.")
            raise ProblemError(403, "This API key may only read; use a key with the write scope.")
        if row["stale"]:
            await merchant_keys.touch(conn, row["merchant_id"], row["key_id"])
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
