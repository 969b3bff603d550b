"""POST /v1/widget/SITE_KEY/requests: an info request, its consent record and opt-in, at once."""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp import web

from widget_server.domain.clock import rfc3339
from widget_server.domain.records import check_policy
from widget_server.keys import DB, SETTINGS
from widget_server.services import policies, requests
from widget_server.services.requests import Submission
from widget_server.services.widget_sites import Site
from widget_server.web.http import json_response
from widget_server.web.problems import ProblemError
from widget_server.web.widget.common import check_page, client_facts, read_write
from widget_server.web.widget.state import LIMITER


def answer(row: asyncpg.Record) -> dict[str, Any]:
    return {"id": str(row["request_id"]), "created_at": rfc3339(row["created_at"])}


async def post_request(request: web.Request, site: Site) -> web.StreamResponse:
    body = await read_write(request, site, site.request_schema())
    async with request.app[DB].connection() as conn:
        # Like consents: a retry gets its first answer, whatever changed on the site since.
        first = await requests.first_answer(conn, site.site_id, body["event_id"])
        if first is not None:
            return json_response(answer(first))
        sub = Submission.of(site, body, check_page(site, body["page_url"]))
        client = client_facts(request, site, body)
        current = await policies.current_policy(conn, site.site_id)
        policy = check_policy(current, body["policy_version"])
        wait = request.app[LIMITER].info_request(site.site_id)
        if wait is not None:
            raise ProblemError(
                429,
                "This site has received too many requests; try again later.",
                headers={"Retry-After": str(wait)},
            )
        secret = request.app[SETTINGS].secret_key.reveal()
        row, created = await requests.store(conn, secret, site, sub, policy, client)
    return json_response(answer(row), status=201 if created else 200)
