"""The site config the widget renders, and the widget API's answers: what the code dumps is what the
document promises (closed shapes: a member the code adds and the schema lacks is never sent)."""

from __future__ import annotations

from marshmallow import Schema, fields

from widget_server.schemas.fields import UtcDateTime


class ConfigPolicySchema(Schema):
    version = fields.Integer(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True, metadata={"description": "Markdown, as published."})
    summary = fields.String(required=True, metadata={"description": "The first paragraph, plain."})
    text = fields.String(required=True, metadata={"description": "The whole text, plain."})
    language = fields.String(required=True)
    url = fields.String(required=True, metadata={"description": "The public policy page."})
    sha256 = fields.String(required=True)
    published_at = UtcDateTime(required=True)


class ConfigPurposeSchema(Schema):
    key = fields.String(required=True)
    label = fields.String(required=True)
    description = fields.String(required=True)
    required = fields.Boolean(required=True)


class ConfigOptionSchema(Schema):
    value = fields.String(required=True)
    label = fields.String(required=True)


class ConfigFieldSchema(Schema):
    name = fields.String(required=True)
    label = fields.String(required=True)
    type = fields.String(required=True)
    required = fields.Boolean(required=True)
    max_length = fields.Integer(required=True, allow_none=True)
    autocomplete = fields.String(
        required=True, allow_none=True, metadata={"description": "The HTML autocomplete token."}
    )
    options = fields.List(
        fields.Nested(ConfigOptionSchema), metadata={"description": "Select fields only."}
    )


class ConfigOptInSchema(Schema):
    label = fields.String(required=True)


class ConfigFormSchema(Schema):
    fields_ = fields.List(
        fields.Nested(ConfigFieldSchema), data_key="fields", attribute="fields", required=True
    )
    marketing_opt_in = fields.Nested(ConfigOptInSchema, required=True, allow_none=True)


class SiteConfigSchema(Schema):
    site_key = fields.String(required=True)
    name = fields.String(required=True)
    locale = fields.String(required=True, metadata={"description": "The language chosen."})
    policy = fields.Nested(ConfigPolicySchema, required=True, allow_none=True)
    purposes = fields.List(fields.Nested(ConfigPurposeSchema), required=True)
    form = fields.Nested(ConfigFormSchema, required=True)
    texts = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    theme = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    consent_expiry_days = fields.Integer(required=True)
    stats_mode = fields.String(
        required=True,
        metadata={
            "description": "`always`, `consent` (beacons only while analytics is granted) or `off`."
        },
    )


class ConsentAnswerSchema(Schema):
    id = fields.UUID(required=True, attribute="record_id")
    created_at = UtcDateTime(required=True)
    receipt = fields.String(required=True)


class RequestAnswerSchema(Schema):
    id = fields.UUID(required=True, attribute="request_id")
    created_at = UtcDateTime(required=True)


class StatusSchema(Schema):
    status = fields.String(required=True)


SITE_CONFIG = SiteConfigSchema()
CONSENT_ANSWER = ConsentAnswerSchema()
REQUEST_ANSWER = RequestAnswerSchema()
