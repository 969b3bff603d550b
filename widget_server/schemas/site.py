"""Marshmallow shapes of a site: what a merchant may set (validated as a whole) and what is shown."""

from __future__ import annotations

import functools
import re
import zoneinfo
from typing import Any

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates,
    validates_schema,
)

from widget_server.domain.defaults import DEFAULT_THEME, default_form, default_purposes, localized
from widget_server.domain.languages import LANGUAGE_TAG
from widget_server.domain.texts import DEFAULT_TEXTS
from widget_server.domain.theme import MIN_CONTRAST, weak_pairs
from widget_server.schemas.fields import (
    FORM_FIELD_TYPES,
    MAX_FIELD_LENGTH,
    MAX_TEXT,
    LanguageTag,
    LocalizedText,
    Origin,
    SelectOption,
    StrictBoolean,
    StrictInteger,
    UtcDateTime,
)

NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
RESERVED_FIELD_NAMES = {"hp": "hp is reserved for the form's honeypot."}
BUILT_IN_PURPOSES = ("necessary", "analytics", "marketing")
STATS_MODES = ("always", "consent", "off")
TEXT_KEYS = tuple(DEFAULT_TEXTS["en"])


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


class FormFieldSchema(Schema):
    name = fields.String(
        required=True, validate=validate.Regexp(NAME), metadata={"pattern": NAME.pattern}
    )
    type = fields.String(required=True, validate=validate.OneOf(list(FORM_FIELD_TYPES)))
    label = LocalizedText(required=True)
    required = StrictBoolean(load_default=False)
    max_length = StrictInteger(
        validate=validate.Range(1, MAX_FIELD_LENGTH),
        metadata={
            "description": "Not for checkboxes. Default by type: text 200, email 254, "
            "tel 40, textarea 5000, select 200."
        },
    )
    options = fields.List(
        SelectOption(),
        validate=validate.Length(1, 100),
        metadata={"description": "The choices of a select field (and only of one)."},
    )

    @validates("name")
    def _not_reserved(self, value: str, data_key: str) -> None:
        if value in RESERVED_FIELD_NAMES:
            raise ValidationError(RESERVED_FIELD_NAMES[value])

    @validates_schema
    def _options_fit_type(self, data: dict[str, Any], **kwargs: Any) -> None:
        kind = data["type"]
        options = data.get("options")
        if kind == "select" and not options:
            raise ValidationError("A select field needs options.", "options")
        if kind != "select" and options is not None:
            raise ValidationError("Only select fields have options.", "options")
        values = [o if isinstance(o, str) else o["value"] for o in options or ()]
        if len(set(values)) != len(values):
            raise ValidationError("Options must differ from each other.", "options")
        if kind == "checkbox" and "max_length" in data:
            raise ValidationError("A checkbox has no length.", "max_length")
        if kind == "email" and data.get("max_length", 0) > 254:
            raise ValidationError("An e-mail address has at most 254 characters.", "max_length")
        if data["name"] == "email" and kind != "email":
            raise ValidationError("The field named email must have type email.", "type")

    @post_load
    def _defaults(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        default = FORM_FIELD_TYPES[data["type"]].default_max_length
        if default is not None:
            data.setdefault("max_length", default)
        return data


class MarketingOptInSchema(Schema):
    label = LocalizedText(required=True)


class FormSchema(Schema):
    fields_ = fields.List(
        fields.Nested(FormFieldSchema),
        data_key="fields",
        attribute="fields",
        required=True,
        validate=validate.Length(1, 50),
        metadata={"description": "In the order shown."},
    )
    marketing_opt_in = fields.Nested(
        MarketingOptInSchema,
        allow_none=True,
        load_default=None,
        metadata={
            "description": "An unticked box asking for permission to send news; null for none."
        },
    )

    @validates_schema
    def _consistent(self, data: dict[str, Any], **kwargs: Any) -> None:
        names = [f["name"] for f in data["fields"]]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValidationError(f"Field names must be unique: {', '.join(duplicates)}.", "fields")
        if data.get("marketing_opt_in") and not any(f["type"] == "email" for f in data["fields"]):
            # The address a permission is for: the field named email, else the first e-mail field.
            raise ValidationError("A marketing opt-in needs an e-mail field.", "marketing_opt_in")


class PurposeSchema(Schema):
    key = fields.String(
        required=True, validate=validate.Regexp(NAME), metadata={"pattern": NAME.pattern}
    )
    label = LocalizedText(
        metadata={"description": "Optional for necessary, analytics and marketing."}
    )
    description = LocalizedText(allow_blank=True, load_default="")
    required = StrictBoolean(load_default=False)

    @validates_schema
    def _label(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "label" not in data and data["key"] not in BUILT_IN_PURPOSES:
            raise ValidationError("A purpose of your own needs a label.", "label")
        if data["key"] == "necessary" and not data["required"]:
            raise ValidationError("The necessary purpose is always required.", "required")

    @post_load
    def _built_in_texts(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        key = data["key"]
        if "label" not in data:
            data["label"] = localized(f"purpose_{key}")
            if not data["description"]:
                data["description"] = localized(f"purpose_{key}_desc")
        return data


def _text_keys(value: dict[str, dict[str, str]]) -> None:
    for lang, texts in value.items():
        unknown = sorted(set(texts) - set(TEXT_KEYS))
        if unknown:
            raise ValidationError(f"{lang}: unknown text keys {', '.join(unknown)}.")
        if any(not t.strip() or len(t) > MAX_TEXT for t in texts.values()):
            raise ValidationError(f"{lang}: texts must have 1 to {MAX_TEXT} characters.")


class ThemeSchema(Schema):
    accent = fields.String(validate=validate.Regexp(COLOUR), metadata={"pattern": COLOUR.pattern})
    accent_text = fields.String(
        validate=validate.Regexp(COLOUR), metadata={"pattern": COLOUR.pattern}
    )
    background = fields.String(
        validate=validate.Regexp(COLOUR), metadata={"pattern": COLOUR.pattern}
    )
    text = fields.String(validate=validate.Regexp(COLOUR), metadata={"pattern": COLOUR.pattern})

    @validates_schema
    def _readable(self, data: dict[str, Any], **kwargs: Any) -> None:
        # The pairs a visitor reads keep WCAG AA contrast, with the defaults for what is left out.
        for pair in weak_pairs(data):
            raise ValidationError(
                f"{pair[0]} and {pair[1]} need a contrast of at least {MIN_CONTRAST}:1.", pair[1]
            )


class SiteInputSchema(Schema):
    """Everything a merchant sets on a site; a PATCH merges onto the current values and loads this."""

    name = fields.String(required=True, validate=validate.Length(1, 200))
    allowed_origins = fields.List(
        Origin(metadata={"examples": ["https://shop.example"]}),
        load_default=list,
        validate=validate.Length(0, 100),
        metadata={
            "description": "Pages on these origins may use the widget; scheme://host[:port]. "
            "A site without any accepts no widget writes until origins are added."
        },
    )
    default_locale = LanguageTag(load_default="en")
    time_zone = fields.String(
        load_default="UTC",
        validate=validate.Length(1, 64),
        metadata={"examples": ["Europe/Berlin"]},
    )
    form = fields.Nested(FormSchema)
    purposes = fields.List(
        fields.Nested(PurposeSchema),
        validate=validate.Length(max=20),
        metadata={
            "description": "`necessary` is always there and required; it is added if missing."
        },
    )
    texts = fields.Dict(
        keys=LanguageTag(),
        values=fields.Dict(
            keys=fields.String(),
            values=fields.String(
                metadata={"minLength": 1, "maxLength": MAX_TEXT, "pattern": r"\S"}
            ),
            metadata={"json_schema": {"propertyNames": {"enum": list(TEXT_KEYS)}}},
        ),
        validate=[validate.Length(max=50), _text_keys],
        load_default=dict,
        metadata={
            "description": "Overrides of the widget's built-in texts, by language and key.",
            "json_schema": {"propertyNames": {"pattern": LANGUAGE_TAG.pattern, "maxLength": 35}},
        },
    )
    theme = fields.Nested(ThemeSchema, load_default=dict)
    consent_expiry_days = StrictInteger(load_default=365, validate=validate.Range(1, 3650))
    retention_days = StrictInteger(load_default=1095, validate=validate.Range(1, 36500))
    store_user_agent = StrictBoolean(load_default=True)
    stats_mode = fields.String(
        load_default="always",
        validate=validate.OneOf(STATS_MODES),
        metadata={
            "description": "`always`: cookieless page-view beacons that read and write nothing "
            "on the device; `consent`: only while `analytics` is granted; `off`: none."
        },
    )

    @validates("name")
    def _name(self, value: str, data_key: str) -> None:
        if not value.strip():
            raise ValidationError("May not be blank.")

    @validates("time_zone")
    def _zone(self, value: str, data_key: str) -> None:
        if value not in _zones():
            raise ValidationError("Not an IANA time zone such as Europe/Berlin.")

    @validates_schema
    def _unique_purposes(self, data: dict[str, Any], **kwargs: Any) -> None:
        # Schema-level, so it runs only once every purpose loaded without errors.
        keys = [p["key"] for p in data.get("purposes") or ()]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValidationError(
                f"Purpose keys must be unique: {', '.join(duplicates)}.", "purposes"
            )

    @post_load
    def _complete(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["allowed_origins"] = list(dict.fromkeys(data["allowed_origins"]))
        if "form" not in data:
            data["form"] = default_form()
        purposes = data.get("purposes")
        if purposes is None:
            purposes = default_purposes()
        if not any(p["key"] == "necessary" for p in purposes):
            purposes = [default_purposes()[0], *purposes]
        data["purposes"] = purposes
        data["theme"] = {**DEFAULT_THEME, **data["theme"]}
        return data


class SiteSchema(Schema):
    """A site as the merchant API shows it."""

    site_key = fields.String(required=True)
    name = fields.String(required=True)
    allowed_origins = fields.List(fields.String(), required=True)
    default_locale = fields.String(required=True)
    time_zone = fields.String(required=True)
    form = fields.Nested(FormSchema, required=True)
    purposes = fields.List(fields.Nested(PurposeSchema), required=True)
    texts = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.String()),
        required=True,
    )
    theme = fields.Nested(ThemeSchema, required=True)
    consent_expiry_days = fields.Integer(required=True)
    retention_days = fields.Integer(required=True)
    store_user_agent = fields.Boolean(required=True)
    stats_mode = fields.String(required=True, validate=validate.OneOf(STATS_MODES))
    policy_version = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "The current policy; null until one is published."},
    )
    snippet = fields.String(
        required=True, metadata={"description": "The script tag to paste into the site."}
    )
    policy_url = fields.String(required=True)
    disabled_at = UtcDateTime(required=True, allow_none=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)


SITE_INPUT_FIELDS = tuple(SiteInputSchema().fields)
