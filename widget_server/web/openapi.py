"""The OpenAPI 3.1 document of both APIs, built from the operation table and the marshmallow schemas."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from widget_server import __version__
from widget_server.schemas import config, widget
from widget_server.schemas.merchant import ProblemSchema
from widget_server.web.problem_docs import PROBLEMS, RETRY_AFTER, problem_example, problem_refs
from widget_server.web.problems import CONTENT_TYPE as PROBLEM
from widget_server.web.routes import JSON, Route

DESCRIPTION = """\
Two APIs. The **widget API** is what `widget.js` calls from visitors' browsers: no credentials,
per-site CORS. The **merchant API** is what site owners call with a key:
`Authorization: Bearer wsk_…` on every call; anything of another merchant is `404`.

Lists answer `{data, next_cursor}`, newest first; pass `next_cursor` back as `cursor` for the next
page (it stays valid while new items arrive). Times are RFC 3339 in UTC. Every error is
`application/problem+json` (RFC 9457)."""

PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "version": {"description": "A policy version.", "schema": {"type": "integer", "minimum": 1}},
    "token": {"description": "The token from a mailed link.", "schema": {"type": "string"}},
    "name": {"description": "A file name.", "schema": {"type": "string"}},
    "hash": {"description": "The start of the script's SHA-256.", "schema": {"type": "string"}},
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
    if is_widget_schema(cls):
        name = "Widget" + name
    if not isinstance(schema, type) and schema.partial:
        name += "Patch"
    return name


def is_widget_schema(cls: type[Schema]) -> bool:
    """The widget API's own shapes, named `Widget…` in the document."""
    return issubclass(cls, widget.WidgetSchema) or cls.__module__ == config.__name__


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


def _success(route: Route) -> dict[str, Any]:
    if route.status in (202, 204) and route.response is None:
        return {"description": "Accepted." if route.status == 202 else "Done; no content."}
    if route.response is not None:
        return {"description": route.summary, "content": {JSON: {"schema": route.response}}}
    doc: dict[str, Any] = {
        "description": route.summary,
        "content": {
            m: {"schema": {"type": "object" if m == JSON else "string"}} for m in route.media
        },
    }
    if "text/csv" in route.media:
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


def error_statuses(route: Route) -> set[int]:
    """What the route may answer as problem+json, from its access, path, query and body."""
    statuses = {503} | set(route.errors)
    parameters = path_parameters(route.path)
    if route.access == "key":
        statuses.add(401)
        if route.writes:
            statuses.add(403)
    if parameters or route.access == "widget":
        statuses.add(404)
    if route.query is not None:
        statuses.add(422)
    if route.body is not None:
        statuses |= {400, 413, 415, 422}
    return statuses


def _operation(route: Route) -> dict[str, Any]:
    parameters = path_parameters(route.path)
    if route.query is not None:
        parameters.append({"in": "query", "schema": route.query})
    doc: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "tags": [route.tag],
        "security": [{"bearer": []}] if route.access == "key" else [],
        "parameters": parameters,
    }
    if route.description:
        doc["description"] = route.description
    if route.body is not None:
        doc["requestBody"] = {
            "required": route.access == "widget" or body_required(route.body),
            "content": {media: {"schema": route.body} for media in route.body_media},
        }
    responses: dict[str, Any] = {str(route.status): _success(route)}
    responses.update(problem_refs(error_statuses(route)))
    responses.update({str(status): dict(answer) for status, answer in route.responses.items()})
    doc["responses"] = dict(sorted(responses.items()))
    return doc


def _preflight(route: Route) -> dict[str, Any]:
    return {
        "operationId": route.operation_id + "Preflight",
        "summary": "CORS preflight",
        "tags": [route.tag],
        "security": [],
        "parameters": path_parameters(route.path),
        "responses": {
            "200": {"description": "The grant, for an origin that may call."},
            # aiohttp-cors refuses an OPTIONS request that is no preflight (no request method).
            **problem_refs({403, 404} if "{" in route.path else {403}),
        },
    }


def build(
    routes: Sequence[Route], public_url: str, *, keyed_preflights: bool = False
) -> dict[str, Any]:
    """The document of `routes`; `keyed_preflights` when browsers may call the merchant API
    (WIDGET_MERCHANT_CORS_ORIGINS), whose preflights aiohttp-cors then answers."""
    plugin = MarshmallowPlugin(schema_name_resolver=schema_name)
    spec = APISpec(
        title="widget-server",
        version=__version__,
        openapi_version="3.1.0",
        plugins=[plugin],
        info={"description": DESCRIPTION},
        servers=[{"url": public_url}],
        tags=[{"name": tag} for tag in dict.fromkeys(route.tag for route in routes)],
    )
    _add_components(spec)
    register_fields(plugin)
    assert plugin.converter is not None
    add_function: Callable[..., None] = plugin.converter.add_attribute_function
    add_function(_field_extras)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        operations = paths.setdefault(route.path, {})
        operations[route.method.lower()] = _operation(route)
        if route.cors_preflight or (keyed_preflights and route.access == "key"):
            operations.setdefault("options", _preflight(route))
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
