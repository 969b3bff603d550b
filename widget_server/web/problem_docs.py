"""The problem+json answers every operation may give, as reusable OpenAPI responses."""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from widget_server.web.problems import SLUGS, TYPE_BASE

# name, description, and an example detail, per status every operation may answer with.
PROBLEMS: dict[int, tuple[str, str, str]] = {
    400: (
        "MalformedRequest",
        "The body is not JSON.",
        "The body is not valid JSON: Expecting value",
    ),
    401: (
        "Unauthorized",
        "No API key, a malformed one, or one unknown or revoked.",
        "This API key is not valid.",
    ),
    403: (
        "Forbidden",
        "The key lacks the write scope (merchant API) or the origin is refused (widget API).",
        "This API key may only read; use a key with the write scope.",
    ),
    404: (
        "NotFound",
        "Nothing here, or it belongs to another merchant.",
        "No such site for this key's merchant.",
    ),
    409: (
        "Conflict",
        "The policy version is not the current one, or none is published.",
        "The policy changed; fetch the config again.",
    ),
    413: (
        "PayloadTooLarge",
        "The body is over the limit.",
        "The body is larger than 1048576 bytes.",
    ),
    415: (
        "UnsupportedMediaType",
        "Send application/json.",
        "Send the body as application/json (got text/html).",
    ),
    422: (
        "ValidationError",
        "Some input is invalid; `errors` says which and why.",
        "The request has invalid fields.",
    ),
    429: (
        "RateLimited",
        "Too many requests; wait `Retry-After` seconds.",
        "Too many requests; try again later.",
    ),
    503: (
        "Unavailable",
        "The database is unreachable; retry after `Retry-After` seconds.",
        "The database is unreachable.",
    ),
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}


def problem_example(status: int) -> dict[str, Any]:
    detail = PROBLEMS[status][2]
    body: dict[str, Any] = {
        "type": TYPE_BASE + SLUGS.get(status, "error"),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if status == 422:
        body["errors"] = {"allowed_origins.0": ["Not an origin like https://shop.example."]}
    return body


def problem_refs(statuses: Iterable[int]) -> dict[str, Any]:
    return {str(s): {"$ref": f"#/components/responses/{PROBLEMS[s][0]}"} for s in sorted(statuses)}
