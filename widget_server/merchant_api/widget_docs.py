"""The widget API, public pages and health checks in the OpenAPI document (the widget's own schemas)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from widget_server.defaults import default_form
from widget_server.problems import CONTENT_TYPE as PROBLEM
from widget_server.schemas import widget
from widget_server.schemas.merchant import ProblemSchema, UtcDateTime
from widget_server.merchant_api.problem_docs import problem_refs

TAGS = [{"name": "Widget API"}, {"name": "Public pages"}, {"name": "Operations"}]
WIDGET = "/v1/widget/{site_key}"
SITE_KEY = {"in": "path", "name": "site_key", "required": True, "schema": {"type": "string"}}
WRITE_ERRORS = (400, 403, 404, 409, 413, 415, 422, 429, 503)


class _Doc(Schema):
    """Answers the widget API sends; documented here only, and open to new members."""

    class Meta:
        unknown = "include"


class PolicySummarySchema(_Doc):
    version = fields.Integer(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    sha256 = fields.String(required=True)
    published_at = UtcDateTime(required=True)


class PurposeSchema(_Doc):
    key = fields.String(required=True)
    label = fields.String(required=True)
    description = fields.String(required=True)
    required = fields.Boolean(required=True)


class FieldSchema(_Doc):
    name = fields.String(required=True)
    label = fields.String(required=True)
    type = fields.String(required=True)
    required = fields.Boolean(required=True)
    max_length = fields.Integer(required=True, allow_none=True)


class OptInSchema(_Doc):
    label = fields.String(required=True)


class FormSchema(_Doc):
    fields_ = fields.List(fields.Nested(FieldSchema), data_key="fields", required=True)
    marketing_opt_in = fields.Nested(OptInSchema, required=True, allow_none=True)


class ConfigSchema(_Doc):
    site_key = fields.String(required=True)
    name = fields.String(required=True)
    locale = fields.String(required=True)
    policy = fields.Nested(PolicySummarySchema, required=True, allow_none=True)
    purposes = fields.List(fields.Nested(PurposeSchema), required=True)
    form = fields.Nested(FormSchema, required=True)
    texts = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    theme = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    consent_expiry_days = fields.Integer(required=True)


class ConsentAnswerSchema(_Doc):
    id = fields.UUID(required=True)
    created_at = UtcDateTime(required=True)
    receipt = fields.String(required=True)


class RequestAnswerSchema(_Doc):
    id = fields.UUID(required=True)
    created_at = UtcDateTime(required=True)


class StatusSchema(_Doc):
    status = fields.String(required=True)


def is_widget_schema(cls: type[Schema]) -> bool:
    return issubclass(cls, widget.WidgetSchema | _Doc)


def _widget_field_properties(self: Any, field: fields.Field[Any], **kwargs: Any) -> dict[str, Any]:
    """What the widget's own field classes mean in JSON Schema terms."""
    props: dict[str, Any] = {}
    if isinstance(field, widget.Text) and field.max_length is not None:
        props["maxLength"] = field.max_length
    if isinstance(field, widget.StrictInt):
        props.update(minimum=field.minimum, maximum=field.maximum)
    if isinstance(field, widget.BoolMap):
        props["additionalProperties"] = {"type": "boolean"}
    return props


def register_fields(plugin: MarshmallowPlugin) -> None:
    """Teach apispec the widget's own field classes (it needs an initialised plugin)."""
    # apispec's methods are unannotated; typed aliases keep strict mypy honest about the calls.
    map_type: Callable[..., None] = plugin.map_to_openapi_type
    map_type(widget.Text, "string", None)
    map_type(widget.StrictBool, "boolean", None)
    map_type(widget.StrictInt, "integer", None)
    map_type(widget.BoolMap, "object", None)
    map_type(widget.PageUrl, "string", "uri")
    assert plugin.converter is not None
    add_function: Callable[..., None] = plugin.converter.add_attribute_function
    add_function(_widget_field_properties)


def _info_request_schema() -> type[Schema]:
    """The request body of a site with the default form (each site's `fields` follow its form)."""
    specs = [
        widget.FieldSpec(f["name"], f["type"], f["required"], f["max_length"])
        for f in default_form()["fields"]
    ]
    return type(widget.build_request_schema(specs))


def _refs(*statuses: int) -> dict[str, Any]:
    return problem_refs(statuses)


def _write(
    summary: str, body: Any, answer: type[Schema] | None, description: str
) -> dict[str, Any]:
    created = {
        "description": "Stored.",
        **({"content": {"application/json": {"schema": answer}}} if answer else {}),
    }
    responses: dict[str, Any] = (
        {"201": created} if answer else {"202": {"description": "Accepted."}}
    )
    if answer:
        responses["200"] = {"description": "The same event_id again: the first answer.", **created}
    return {
        "summary": summary,
        "description": description + " Also accepts `text/plain` carrying JSON (for sendBeacon).",
        "tags": ["Widget API"],
        "security": [],
        "parameters": [SITE_KEY],
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "responses": {**responses, **_refs(*WRITE_ERRORS)},
    }


def _page(
    summary: str, tag: str, media: str, parameters: list[dict[str, Any]], *errors: int
) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {"description": summary, "content": {media: {"schema": {"type": "string"}}}},
        **_refs(*errors),
    }
    if media == "text/html" and 404 in errors:
        # Pages are read by people: their "not found" is a page too (a path that is no page at all
        # gets the router's problem+json).
        responses["404"] = {
            "description": "No such page.",
            "content": {media: {"schema": {"type": "string"}}, PROBLEM: {"schema": ProblemSchema}},
        }
    return {
        "summary": summary,
        "tags": [tag],
        "security": [],
        "parameters": parameters,
        "responses": responses,
    }


def add_paths(spec: APISpec) -> None:
    html, token = (
        "text/html",
        {"in": "path", "name": "token", "required": True, "schema": {"type": "string"}},
    )
    version = {
        "in": "path",
        "name": "version",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
    script = _page("The widget script", "Widget API", "text/javascript", [])
    script["responses"]["304"] = {"description": "Not modified (If-None-Match)."}
    spec.path(path="/widget.js", operations={"get": script})
    config = _page(
        "A site's widget configuration", "Widget API", "application/json", [SITE_KEY], 404, 503
    )
    config["parameters"] = [SITE_KEY, {"in": "query", "name": "lang", "schema": {"type": "string"}}]
    config["responses"]["200"]["content"]["application/json"]["schema"] = ConfigSchema
    config["responses"]["304"] = {"description": "Not modified (If-None-Match)."}
    spec.path(path=f"{WIDGET}/config", operations={"get": config})
    spec.path(
        path=f"{WIDGET}/consents",
        operations={
            "post": _write(
                "Record a consent decision",
                widget.ConsentEventSchema,
                ConsentAnswerSchema,
                "The server decides each purpose; 409 when policy_version is not current.",
            )
        },
    )
    spec.path(
        path=f"{WIDGET}/requests",
        operations={
            "post": _write(
                "Send an info request",
                _info_request_schema(),
                RequestAnswerSchema,
                "`fields` follow the site's form (shown: the default form).",
            )
        },
    )
    spec.path(
        path=f"{WIDGET}/events",
        operations={
            "post": _write(
                "Send a page-view or engagement beacon",
                widget.BeaconSchema,
                None,
                "Anonymous statistics; no IP address is stored.",
            )
        },
    )
    spec.path(
        path="/policy/{site_key}",
        operations={"get": _page("The current policy", "Public pages", html, [SITE_KEY], 404)},
    )
    spec.path(
        path="/policy/{site_key}/{version}",
        operations={
            "get": _page("One policy version", "Public pages", html, [SITE_KEY, version], 404)
        },
    )
    unsubscribe = _page("One-click unsubscribe (RFC 8058)", "Public pages", html, [token], 404)
    unsubscribe["responses"].update(
        {"204": {"description": "Opted out."}, "303": {"description": "Opted out."}}
    )
    spec.path(
        path="/u/{token}",
        operations={
            "get": _page(
                "The unsubscribe page; changes nothing", "Public pages", html, [token], 404
            ),
            "post": unsubscribe,
        },
    )
    for path, summary in (
        ("/healthz", "The process is alive"),
        ("/readyz", "The database is reachable"),
    ):
        op = _page(summary, "Operations", "application/json", [], 503)
        op["responses"]["200"]["content"]["application/json"]["schema"] = StatusSchema
        spec.path(path=path, operations={"get": op})
