"""The OpenAPI 3.1 document of both APIs, built from the operation table and the marshmallow schemas."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from widget_server import __version__
from widget_server.problems import CONTENT_TYPE as PROBLEM
from widget_server.schemas.merchant import ProblemSchema
from widget_server.merchant_api import widget_docs
from widget_server.merchant_api.operations import Operation
from widget_server.merchant_api.problem_docs import (
    PROBLEMS,
    RETRY_AFTER,
    problem_example,
    problem_refs,
)

DESCRIPTION = """\
Two APIs. The **widget API** is what `widget.js` calls from visitors' browsers: no credentials,
per-site CORS. The **merchant API** is what site owners call with a key:
`Authorization: Bearer wsk_…` on every call; anything of another merchant is `404`.

Lists answer `{data, next_cursor}`, newest first; pass `next_cursor` back as `cursor` for the next
page (it stays valid while new items arrive). Times are RFC 3339 in UTC. Every error is
`application/problem+json` (RFC 9457)."""

PATH_PARAMETERS = {
    "site_key": {"description": "The site's public key (`st_…`).", "schema": {"type": "string"}},
    "key_id": {"description": "The API key's id.", "schema": {"type": "string", "format": "uuid"}},
    "request_id": {
        "description": "The info request's id.",
        "schema": {"type": "string", "format": "uuid"},
    },
}


def schema_name(schema: type[Schema] | Schema) -> str:
    """Component names: class name less `Schema`; `…Patch` for a partial variant; widget ones prefixed."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__.removesuffix("Schema")
    if widget_docs.is_widget_schema(cls):
        name = "Widget" + name
    if not isinstance(schema, type) and schema.partial:
        name += "Patch"
    return name


# Field metadata under this key is merged verbatim (apispec drops keywords it does not know).
JSON_SCHEMA = "json_schema"


def _field_extras(self: Any, field: fields.Field[Any], ret: dict[str, Any], **kwargs: Any) -> Any:
    """`propertyNames` and the like from metadata; a Dict's length bounds are about its members."""
    if isinstance(field, fields.Dict):
        for bound, keyword in (("minLength", "minProperties"), ("maxLength", "maxProperties")):
            if bound in ret:
                ret[keyword] = ret.pop(bound)
    return dict(field.metadata.get(JSON_SCHEMA, {}))


def _add_components(spec: APISpec) -> None:
    spec.components.schema("Problem", schema=ProblemSchema)
    spec.components.security_scheme(
        "bearer",
        {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "wsk_…",
            "description": "A merchant API key.",
        },
    )
    for status, (name, description, _) in PROBLEMS.items():
        response: dict[str, Any] = {
            "description": description,
            "content": {PROBLEM: {"schema": ProblemSchema, "example": problem_example(status)}},
        }
        if status in (429, 503):
            response["headers"] = RETRY_AFTER
        if status == 401:
            response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        spec.components.response(name, response)


def path_parameters(path: str) -> list[dict[str, Any]]:
    return [
        {"in": "path", "name": name, "required": True, **PATH_PARAMETERS[name]}
        for name in PATH_PARAMETERS
        if "{" + name + "}" in path
    ]


def _success(op: Operation) -> dict[str, Any]:
    if op.status == 204:
        return {"description": "Done; no content."}
    if op.response is not None:
        return {"description": op.summary, "content": {"application/json": {"schema": op.response}}}
    doc: dict[str, Any] = {
        "description": op.summary,
        "content": {
            m: {"schema": {"type": "object" if m == "application/json" else "string"}}
            for m in op.media
        },
    }
    if "text/csv" in op.media:
        doc["headers"] = {
            "Content-Disposition": {
                "schema": {"type": "string"},
                "description": 'attachment; filename="…"',
            }
        }
    return doc


def body_required(body: type[Schema] | Schema) -> bool:
    """A body whose members all have defaults may be left out (no body is `{}`); see common.read_body."""
    schema = body() if isinstance(body, type) else body
    return schema.partial is not True and any(f.required for f in schema.fields.values())


def _operation(op: Operation) -> dict[str, Any]:
    statuses = {503}
    parameters = path_parameters(op.path)
    if not op.public:
        statuses.add(401)
    if op.writes:
        statuses.add(403)
    if parameters:
        statuses.add(404)
    if op.query is not None:
        parameters.append({"in": "query", "schema": op.query})
        statuses.add(422)
    doc: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": [op.tag],
        "security": [] if op.public else [{"bearer": []}],
        "parameters": parameters,
    }
    if op.description:
        doc["description"] = op.description
    if op.body is not None:
        doc["requestBody"] = {
            "required": body_required(op.body),
            "content": {"application/json": {"schema": op.body}},
        }
        statuses |= {400, 413, 415, 422}
    doc["responses"] = {str(op.status): _success(op), **problem_refs(statuses)}
    return doc


def build(operations: Iterable[Operation], public_url: str) -> dict[str, Any]:
    plugin = MarshmallowPlugin(schema_name_resolver=schema_name)
    spec = APISpec(
        title="widget-server",
        version=__version__,
        openapi_version="3.1.0",
        plugins=[plugin],
        info={"description": DESCRIPTION},
        servers=[{"url": public_url}],
        tags=[
            {"name": t} for t in ("Sites", "Policies", "Info requests", "Consent log", "API keys")
        ]
        + widget_docs.TAGS,
    )
    _add_components(spec)
    widget_docs.register_fields(plugin)
    assert plugin.converter is not None
    add_function: Callable[..., None] = plugin.converter.add_attribute_function
    add_function(_field_extras)
    for op in operations:
        spec.path(path=op.path, operations={op.method.lower(): _operation(op)})
    widget_docs.add_paths(spec)
    return spec.to_dict()
