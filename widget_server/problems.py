"""RFC 9457 problem+json answers, and the exception handlers raise to produce one."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from aiohttp import web

CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://widget-server.dev/problems/"

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


def flatten_errors(errors: Mapping[str, Any], prefix: str = "") -> dict[str, list[str]]:
    flat: dict[str, list[str]] = {}
    for key, value in errors.items():
        name = f"{prefix}{key}" if key != "_schema" or not prefix else prefix.rstrip(".")
        if key == "_schema" and not prefix:
            name = "_body"
        if isinstance(value, Mapping):
            flat.update(flatten_errors(value, f"{name}."))
        elif isinstance(value, list | tuple):
            msgs: list[str] = []
            for item in value:
                if isinstance(item, Mapping):
                    flat.update(flatten_errors(item, f"{name}."))
                else:
                    msgs.append(str(item))
            if msgs:
                flat.setdefault(name, []).extend(msgs)
        else:
            flat.setdefault(name, []).append(str(value))
    return flat
