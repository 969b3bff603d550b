"""What a path names, and whether it is the caller's: another merchant's anything is 404, even before 403."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import asyncpg

from widget_server.domain.errors import NotFound
from widget_server.domain.ids import plausible_site_key
from widget_server.services import api_keys, requests, sites


def site_key_in(match_info: Mapping[str, str]) -> str:
    """The path's site key; one that cannot be a key names nothing (404)."""
    key = match_info["site_key"]
    if not plausible_site_key(key):
        raise NotFound(sites.NO_SITE)
    return key


def uuid_in(match_info: Mapping[str, str], name: str) -> uuid.UUID:
    """A UUID from the path; anything else names nothing here, so 404."""
    try:
        return uuid.UUID(match_info[name])
    except ValueError:
        raise NotFound("No such resource for this key's merchant.") from None


async def path_is_owned(
    conn: asyncpg.Connection, merchant_id: uuid.UUID, match_info: Mapping[str, str]
) -> bool:
    """Whether everything the path names exists and is this merchant's (a site, its request, a key)."""
    try:
        if "site_key" in match_info:
            site = await sites.owned_site(conn, merchant_id, site_key_in(match_info))
            if "request_id" in match_info:
                await requests.get_request(conn, site["site_id"], uuid_in(match_info, "request_id"))
        if "key_id" in match_info:
            return await api_keys.owned(conn, merchant_id, uuid_in(match_info, "key_id"))
    except NotFound:
        return False
    return True
