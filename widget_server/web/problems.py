"""RFC 9457 problem+json answers, and the exception handlers raise to produce one."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from aiohttp import web

from widget_server.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    Unauthorized,
    Unavailable,
    flatten_errors,
)

CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://widget-server.dev/problems/"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="widget-server"'}

# A stable `type` per status, so clients can branch on it.
SLUGS = {
    400: "malformed-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "rate-limited",
    503: "unavailable",
}


class ProblemError(Exception):
    """Raised anywhere under a handler; the error middleware turns it into problem+json."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: Mapping[str, Sequence[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        type_slug: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = dict(headers or {})
        self.type_slug = type_slug
        self.extra = dict(extra or {})


def problem_response(
    status: int,
    detail: str,
    *,
    errors: Mapping[str, Sequence[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    type_slug: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> web.Response:
    body: dict[str, Any] = {
        "type": TYPE_BASE + (type_slug or SLUGS.get(status, "error")),
        "title": HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error",
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = {k: list(v) for k, v in errors.items()}
    if extra:
        body.update(extra)
    return web.Response(
        status=status,
        body=json.dumps(body, ensure_ascii=False).encode(),
        content_type=CONTENT_TYPE,
        charset="utf-8",
        headers=headers,
    )


def from_error(exc: ProblemError) -> web.Response:
    return problem_response(
        exc.status,
        exc.detail,
        errors=exc.errors,
        headers=exc.headers,
        type_slug=exc.type_slug,
        extra=exc.extra,
    )


def validation_error(
    errors: Mapping[str, Any], detail: str = "The request has invalid fields."
) -> ProblemError:
    """Flatten marshmallow's nested messages to {"a.b": [msg, ...]}."""
    return ProblemError(422, detail, errors=flatten_errors(errors))


def from_domain(exc: DomainError) -> ProblemError:
    """The HTTP face of a service's refusal."""
    if isinstance(exc, Invalid):
        return ProblemError(422, exc.detail, errors=exc.errors)
    if isinstance(exc, Conflict):
        return ProblemError(409, exc.detail, type_slug=exc.slug, extra=exc.extra)
    if isinstance(exc, NotFound):
        return ProblemError(404, exc.detail)
    if isinstance(exc, Unauthorized):
        return ProblemError(401, exc.detail, headers=CHALLENGE)
    if isinstance(exc, Forbidden):
        return ProblemError(403, exc.detail)
    if isinstance(exc, Unavailable):
        return ProblemError(503, exc.detail, headers={"Retry-After": "30"})
    raise TypeError(f"no HTTP answer for {type(exc).__name__}")
