"""Marshmallow shapes of the merchant API: strict JSON fields, keys, policies, requests, consents, lists."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates

from widget_server.schemas.fields import LanguageTag, TimeBound, UtcDateTime, unstorable_text

__all__ = ["UtcDateTime", "unstorable_text"]  # also used by the API's helpers and docs

REQUEST_STATUSES = ("new", "open", "done", "spam")
CONSENT_ACTIONS = ("accept_all", "reject_all", "custom", "withdraw", "accept_terms")
SCOPES = ("read", "write")
MAX_POLICY_TITLE = 300
MAX_POLICY_BODY = 200_000


# -- query strings


class ListQuery(Schema):
    limit = fields.Integer(
        load_default=50,
        validate=validate.Range(1, 500),
        metadata={"description": "Items per page."},
    )
    cursor = fields.String(
        validate=validate.Length(1, 512),
        metadata={"description": "The `next_cursor` of the previous page; opaque."},
    )


class RequestFilterQuery(Schema):
    status = fields.String(validate=validate.OneOf(REQUEST_STATUSES))
    since = TimeBound()
    until = TimeBound()
    email = fields.String(
        validate=validate.Length(1, 320), metadata={"description": "Exact match, any case."}
    )
    include_spam = fields.Boolean(
        load_default=False,
        metadata={"description": "Include requests with status spam (default: excluded)."},
    )


class RequestListQuery(ListQuery, RequestFilterQuery):
    pass


class ConsentFilterQuery(Schema):
    visitor_id = fields.String(validate=validate.Length(1, 200))
    action = fields.String(validate=validate.OneOf(CONSENT_ACTIONS))
    policy_version = fields.Integer(validate=validate.Range(1, 2**31 - 1))
    since = TimeBound()
    until = TimeBound()


class ConsentListQuery(ListQuery, ConsentFilterQuery):
    pass


class ExportFormat(Schema):
    format = fields.String(
        load_default="csv",
        validate=validate.OneOf(("csv", "ndjson")),
        metadata={"description": "`csv` (the default) or `ndjson`."},
    )


class RequestExportQuery(ExportFormat, RequestFilterQuery):
    pass


class ConsentExportQuery(ExportFormat, ConsentFilterQuery):
    pass


# -- API keys


class ApiKeyCreateSchema(Schema):
    name = fields.String(load_default="", validate=validate.Length(max=200))
    scopes = fields.List(
        fields.String(validate=validate.OneOf(SCOPES)),
        load_default=lambda: list(SCOPES),
        validate=validate.Length(1, 2),
        metadata={"description": "`read`, or `read` and `write` (a write key can also read)."},
    )

    @post_load
    def _write_reads(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        # A key that may write may read: store both, so the scopes shown are the truth.
        data["scopes"] = ["read", "write"] if "write" in data["scopes"] else ["read"]
        return data


class MerchantCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 200))

    @validates("name")
    def _name(self, value: str, data_key: str) -> None:
        if not value.strip():
            raise ValidationError("May not be blank.")


class ApiKeySchema(Schema):
    id = fields.UUID(required=True, attribute="key_id")
    name = fields.String(required=True)
    scopes = fields.List(fields.String(validate=validate.OneOf(SCOPES)), required=True)
    prefix = fields.String(
        required=True, metadata={"description": "The start of the secret, to recognise it."}
    )
    created_at = UtcDateTime(required=True)
    last_used_at = UtcDateTime(required=True, allow_none=True)
    revoked_at = UtcDateTime(required=True, allow_none=True)


class ApiKeyCreatedSchema(ApiKeySchema):
    secret = fields.String(
        required=True, metadata={"description": "The full key; shown only in this answer."}
    )


# -- policies

SHA256_RULE = (
    "Lowercase hex SHA-256 of the UTF-8 bytes of `title`, one line feed (U+000A), then `body`, "
    "both exactly as stored and shown (no trimming, no newline conversion): in Python "
    "`hashlib.sha256((title + '\\n' + body).encode('utf-8')).hexdigest()`. Consent records carry "
    "it as `policy_sha256`, and the widget config's `policy.sha256` is the same value."
)


class PolicyCreateSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(1, MAX_POLICY_TITLE))
    body = fields.String(required=True, validate=validate.Length(1, MAX_POLICY_BODY))
    language = LanguageTag(
        load_default=None, metadata={"description": "Default: the site's `default_locale`."}
    )

    @validates("title", "body")
    def _not_blank(self, value: str, data_key: str) -> None:
        if not value.strip():
            raise ValidationError("May not be blank.")


class PolicySchema(Schema):
    version = fields.Integer(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    language = fields.String(required=True)
    sha256 = fields.String(
        required=True,
        metadata={
            "description": SHA256_RULE,
            "pattern": "^[0-9a-f]{64}$",
        },
    )
    published_at = UtcDateTime(required=True)
    url = fields.String(required=True, metadata={"description": "The public page of this version."})


# -- info requests


def page_url_field() -> fields.Function:
    """The page the widget was used on, as kept: origin and path, without query string or fragment."""
    return fields.Function(
        lambda row: row["page_origin"] + row["page_path"],
        required=True,
        metadata={
            "type": "string",
            "description": "`page_origin` + `page_path`: the page_url sent, less query and fragment.",
        },
    )


class RequestStatusPatchSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(REQUEST_STATUSES))


class _SentFrom(Schema):
    """Who sent it from where, under which text: what requests and consent records both keep."""

    visitor_id = fields.String(required=True)
    policy_version = fields.Integer(required=True)
    language = fields.String(required=True)
    page_origin = fields.String(required=True)
    page_path = fields.String(required=True)
    page_url = page_url_field()
    created_at = UtcDateTime(required=True)


class InfoRequestSchema(_SentFrom):
    id = fields.UUID(required=True, attribute="request_id")
    status = fields.String(required=True, validate=validate.OneOf(REQUEST_STATUSES))
    spam_reason = fields.String(required=True, allow_none=True)
    fields_ = fields.Dict(
        data_key="fields",
        attribute="fields",
        keys=fields.String(),
        values=fields.Raw(),
        required=True,
        metadata={"description": "What the visitor typed, verbatim, by form field name."},
    )
    email = fields.String(
        required=True, allow_none=True, metadata={"description": "Lower-cased e-mail, if any."}
    )
    marketing_opt_in = fields.Boolean(required=True)
    updated_at = UtcDateTime(required=True)


# -- the consent log


class ConsentRecordSchema(_SentFrom):
    id = fields.UUID(required=True, attribute="record_id")
    event_id = fields.UUID(required=True, allow_none=True)
    action = fields.String(required=True, validate=validate.OneOf(CONSENT_ACTIONS))
    surface = fields.String(required=True)
    purposes = fields.Dict(keys=fields.String(), values=fields.Boolean(), required=True)
    policy_sha256 = fields.String(required=True)
    gpc = fields.Boolean(required=True)
    user_agent = fields.String(required=True, allow_none=True)
    widget_version = fields.String(required=True, allow_none=True)
    request_id = fields.UUID(required=True, allow_none=True)
    valid_until = UtcDateTime(required=True)
    receipt = fields.String(required=True)
    verified = fields.Boolean(
        required=True,
        metadata={"description": "The receipt, checked again now with the server secret."},
    )


# -- envelopes


def page_of(item: type[Schema], name: str) -> type[Schema]:
    """`{data: [item], next_cursor}`: the shape of every list."""
    return Schema.from_dict(
        {
            "data": fields.List(fields.Nested(item), required=True),
            "next_cursor": fields.String(
                required=True,
                allow_none=True,
                metadata={"description": "Pass as `cursor` for the next page."},
            ),
        },
        name=name,
    )


ApiKeyPage = page_of(ApiKeySchema, "ApiKeyPage")
PolicyPage = page_of(PolicySchema, "PolicyPage")
InfoRequestPage = page_of(InfoRequestSchema, "InfoRequestPage")
ConsentRecordPage = page_of(ConsentRecordSchema, "ConsentRecordPage")


class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    class Meta:
        unknown = "include"

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Validation messages by field (422 only)."},
    )
