"""What a path names, and whether it is the caller's: another merchant's anything is 404, even before 403."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import asyncpg

from widget_server.problems import ProblemError
from widget_server.queries import merchant_keys, merchant_requests, merchant_sites
from widget_server.schemas.merchant_fields import UNSTORABLE

MAX_SITE_KEY = 100


def not_found(what: str = "No such resource for this key's merchant.") -> ProblemError:
    return ProblemError(404, what)


def site_key_in(match_info: Mapping[str, str]) -> str:
    """The path's site key; one Postgres could not even compare (NUL, lone surrogates) names nothing."""
    key = match_info["site_key"]
    if len(key) > MAX_SITE_KEY or UNSTORABLE.search(key):
        raise not_found("No such site for this key's merchant.")
    return key


def uuid_in(match_info: Mapping[str, str], name: str) -> uuid.UUID:
    """A UUID from the path; anything else names nothing here, so 404."""
    try:
        return uuid.UUID(match_info[name])
    except ValueError:
        raise not_found() from None


async def path_is_owned(
    conn: asyncpg.Connection, merchant_id: uuid.UUID, match_info: Mapping[str, str]
) -> bool:
    """Whether everything the path names exists and is this merchant's (a site, its request, a key)."""
    try:
        if "site_key" in match_info:
            site = await merchant_sites.owned_site(conn, merchant_id, site_key_in(match_info))
            if site is None:
                return False
            if "request_id" in match_info:
                request_id = uuid_in(match_info, "request_id")
                found = await merchant_requests.get_request(conn, site["site_id"], request_id)
                if found is None:
                    return False
        if "key_id" in match_info:
            key_id = uuid_in(match_info, "key_id")
            return await merchant_keys.owned_key(conn, merchant_id, key_id)
    except ProblemError:
        return False
    return True
