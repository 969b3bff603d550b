"""Helpers for the widget API tests: request bodies and a poster that sets Origin."""

from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from tests.conftest import HOST_ORIGIN, Tenant

PAGE_URL = f"{HOST_ORIGIN}/pricing?utm_source=news&email=a%40b.example#plans"
VISITOR = "visitor_0123456789"


def consent_body(tenant: Tenant, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "visitor_id": VISITOR,
        "policy_version": tenant.policy_version,
        "action": "accept_all",
        "purposes": {},
        "page_url": PAGE_URL,
    }
    body.update(changes)
    return body


def request_body(tenant: Tenant, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "visitor_id": VISITOR,
        "policy_version": tenant.policy_version,
        "fields": {
            "name": "Ada Lovelace",
            "email": "Ada@Example.COM",
            "message": "Tell me more about the engine.",
        },
        "marketing_opt_in": False,
        "page_url": PAGE_URL,
        "hp": "",
        "elapsed_ms": 8000,
    }
    body.update(changes)
    return body


def beacon_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "pageview",
        "url": PAGE_URL,
        "referrer": "https://search.example/?q=engine",
        "engaged_ms": None,
    }
    body.update(changes)
    return body


async def post(
    client: TestClient[Any, Any],
    site_key: str,
    kind: str,
    body: Any,
    *,
    origin: str | None = HOST_ORIGIN,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> ClientResponse:
    """POST /v1/widget/SITE_KEY/KIND with the body as JSON text, from `origin` (None: no header)."""
    sent = dict(headers or {})
    sent["Content-Type"] = content_type
    if origin is not None:
        sent["Origin"] = origin
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return await client.post(f"/v1/widget/{site_key}/{kind}", data=data, headers=sent)
