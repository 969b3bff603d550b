"""Marshmallow shapes of what visitors' browsers send: consent events, info requests, beacons."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate

from widget_server.domain.origins import PageLocation, parse_page_url
from widget_server.schemas.fields import FORM_FIELD_TYPES, MAX_FIELD_LENGTH, LanguageTag

CONSENT_ACTIONS = ("accept_all", "reject_all", "custom", "withdraw")
CONSENT_SURFACES = ("banner", "preferences")
BEACON_TYPES = ("pageview", "engagement")
MAX_URL_LENGTH = 2048

# C0 and C1 controls (category Cc) except tab and newline; DEL too.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# The widget makes a random UUID; the contract lets other clients choose, within reason.
_VISITOR_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_BLANKS = " \t"  # stripped from addresses; a line break stays an error (header injection)
# Dot-atom local part and a dotted host name: what a browser's type=email accepts, minus oddities
# (quoted local parts, bare host names) that mail systems and CSV consumers handle badly.
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_HOST_LABEL = re.compile(r"[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?")


def clean_text(value: str, *, multiline: bool = True, max_length: int | None = None) -> str:
    """NFC-normalised text; ValidationError for control characters or when too long."""
    if _SURROGATE.search(value):
        raise ValidationError("Contains an invalid Unicode sequence.")
    if _CONTROL.search(value):
        raise ValidationError("Contains control characters (only newline and tab are allowed).")
    if not multiline and "\n" in value:
        # Single-line values may end up in mail headers and CSV cells: no line breaks there.
        raise ValidationError("Must be a single line.")
    text = unicodedata.normalize("NFC", value)
    if max_length is not None and len(text) > max_length:
        raise ValidationError(f"Longer than maximum length {max_length}.")
    return text


def _escape_key(key: str) -> str:
    # Error keys are echoed in the problem body, which must itself be valid UTF-8.
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


def surrogate_errors(data: Any, path: tuple[str, ...] = ()) -> dict[str, Any]:
    """Nested errors for every lone surrogate (from JSON like "\\ud800") in keys or values."""
    found: dict[str, Any] = {}
    if isinstance(data, str):
        if _SURROGATE.search(data):
            found[".".join(path) or "_schema"] = ["Contains an invalid Unicode sequence."]
    elif isinstance(data, Mapping):
        for key, value in data.items():
            name = _escape_key(str(key))
            if _SURROGATE.search(str(key)):
                found[".".join((*path, name))] = ["The field name is not valid Unicode."]
            else:
                found.update(surrogate_errors(value, (*path, name)))
    elif isinstance(data, list):
        for i, item in enumerate(data):
            found.update(surrogate_errors(item, (*path, str(i))))
    return found


class Text(fields.Field[str]):
    """A string, NFC-normalised, with control characters refused; nothing else changed, unless
    asked: `strip` drops surrounding blanks (as a browser does for type=email), `blank_is_none`
    reads a blank optional value as no value (None, with no validator run on it)."""

    def __init__(
        self,
        *,
        max_length: int | None = None,
        multiline: bool = False,
        nonblank: bool = False,
        strip: bool = False,
        blank_is_none: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length
        self.multiline = multiline
        self.nonblank = nonblank
        self.strip = strip
        self.blank_is_none = blank_is_none

    def deserialize(
        self,
        value: Any,
        attr: str | None = None,
        data: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> str:
        if self.blank_is_none and isinstance(value, str) and not value.strip():
            value = None  # with allow_none, marshmallow answers None and runs no validator
        text: str = super().deserialize(value, attr, data, **kwargs)
        return text

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str:
        if not isinstance(value, str):
            raise ValidationError("Not a valid string.")
        if self.strip:
            value = value.strip(_BLANKS)
        text = clean_text(value, multiline=self.multiline, max_length=self.max_length)
        if self.nonblank and not text.strip():
            raise ValidationError("This field is required.")
        return text


class StrictBool(fields.Field[bool]):
    """Only JSON true or false: "yes", 1 or "false" are mistakes, not booleans."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("Not a valid boolean (true or false).")
        return value


class StrictInt(fields.Field[int]):
    """Only a JSON integer within [minimum, maximum]; no strings, floats or booleans."""

    def __init__(self, *, minimum: int = 0, maximum: int = 2**31 - 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.minimum = minimum
        self.maximum = maximum

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError("Not a valid integer.")
        if not self.minimum <= value <= self.maximum:
            raise ValidationError(f"Must be between {self.minimum} and {self.maximum}.")
        return value


class BoolMap(fields.Field[dict[str, bool]]):
    """{KEY: true|false}; which keys exist is the site's business, checked later."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> dict[str, bool]:
        if not isinstance(value, dict):
            raise ValidationError("Not a valid object of true/false values.")
        out: dict[str, bool] = {}
        errors: dict[str, list[str]] = {}
        for key, flag in value.items():
            if not isinstance(flag, bool):
                errors[_escape_key(key)] = ["Not a valid boolean (true or false)."]
            else:
                out[key] = flag
        if errors:
            raise ValidationError(errors)
        return out


class PageUrl(fields.Field[PageLocation]):
    """An http(s) URL, kept as origin and path: query string and fragment are dropped."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> PageLocation:
        if not isinstance(value, str):
            raise ValidationError("Not a valid string.")
        text = clean_text(value, multiline=False, max_length=MAX_URL_LENGTH)
        location = parse_page_url(text)
        if location is None:
            raise ValidationError("Not a valid http(s) URL.")
        return location


def _visitor_id(value: str) -> None:
    if not _VISITOR_ID.fullmatch(value):
        raise ValidationError("Must be 1 to 128 characters: letters, digits, '.', ':', '_' or '-'.")


def valid_email(value: str) -> bool:
    local, at, domain = value.rpartition("@")
    if not at or len(value) > 254 or len(local) > 64 or not _EMAIL_LOCAL.fullmatch(local):
        return False
    labels = domain.split(".")
    if len(labels) < 2 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        return False
    tld = labels[-1]
    return len(tld) >= 2 and (tld.isalpha() or tld.lower().startswith("xn--"))


def _email(value: str) -> None:
    if not valid_email(value):
        raise ValidationError("Not a valid e-mail address.")


class WidgetSchema(Schema):
    """Base: unknown fields are refused (marshmallow's default), lone surrogates too."""

    @pre_load
    def refuse_lone_surrogates(self, data: Any, **kwargs: Any) -> Any:
        errors = surrogate_errors(data)
        if errors:
            raise ValidationError(errors)
        return data


class _Common(WidgetSchema):
    event_id = fields.UUID(required=True)
    visitor_id = Text(required=True, validate=_visitor_id)
    policy_version = StrictInt(required=True, minimum=1)
    page_url = PageUrl(required=True)
    language = LanguageTag(load_default=None)
    widget_version = Text(load_default=None, max_length=64)


class ConsentEventSchema(_Common):
    action = Text(required=True, validate=validate.OneOf(CONSENT_ACTIONS))
    purposes = BoolMap(load_default=dict)
    surface = Text(load_default="banner", validate=validate.OneOf(CONSENT_SURFACES))
    # navigator.globalPrivacyControl, for browsers that expose the signal but send no Sec-GPC.
    gpc = StrictBool(load_default=False)


class BeaconSchema(WidgetSchema):
    type = Text(required=True, validate=validate.OneOf(BEACON_TYPES))
    visitor_hint = Text(load_default=None, allow_none=True, max_length=200)
    url = PageUrl(required=True)
    referrer = Text(load_default=None, allow_none=True, max_length=MAX_URL_LENGTH)
    engaged_ms = StrictInt(load_default=None, allow_none=True, maximum=86_400_000)
    widget_version = Text(load_default=None, max_length=64)


@dataclass(frozen=True)
class FieldSpec:
    """One form field as the request schema needs it (labels live in the site config)."""

    name: str
    type: str
    required: bool
    max_length: int | None
    options: tuple[str, ...] = ()


def _form_field(spec: FieldSpec) -> fields.Field[Any]:
    if spec.type == "checkbox":
        checked = validate.Equal(True, error="This box must be ticked.") if spec.required else None
        return StrictBool(required=spec.required, validate=checked)
    kind = FORM_FIELD_TYPES[spec.type]
    limit = spec.max_length or kind.default_max_length or MAX_FIELD_LENGTH
    validators: list[Any] = []
    if spec.type == "email":
        validators.append(_email)
    if spec.type == "select":
        validators.append(validate.OneOf(spec.options, error="Not one of the offered options."))
    return Text(
        required=spec.required,
        allow_none=not spec.required,
        nonblank=spec.required,
        blank_is_none=not spec.required,
        strip=spec.type == "email",
        multiline=not kind.single_line,
        max_length=min(limit, MAX_FIELD_LENGTH),
        validate=validators,
    )


def build_request_schema(specs: Sequence[FieldSpec]) -> Schema:
    """The info-request schema for one site's form; built once per cached site config."""
    field_schema = WidgetSchema.from_dict(
        {spec.name: _form_field(spec) for spec in specs}, name="FormFieldsSchema"
    )
    request_schema = _Common.from_dict(
        {
            "fields": fields.Nested(field_schema, required=True),
            "marketing_opt_in": StrictBool(load_default=False),
            "hp": Text(load_default="", allow_none=True, multiline=True, max_length=1000),
            "elapsed_ms": StrictInt(required=True),
        },
        name="InfoRequestSchema",
    )
    return request_schema()


def email_field(specs: Iterable[FieldSpec]) -> str | None:
    """Which field holds the visitor's address: the one named "email", else the first of type email."""
    emails = [s.name for s in specs if s.type == "email"]
    if "email" in emails:
        return "email"
    return emails[0] if emails else None


CONSENT_EVENT = ConsentEventSchema()
BEACON = BeaconSchema()


def request_schema_of(form_fields: Iterable[Mapping[str, Any]]) -> Schema:
    """The info-request schema of a form as stored (the OpenAPI document shows the default form)."""
    return build_request_schema(
        [FieldSpec(f["name"], f["type"], f["required"], f.get("max_length")) for f in form_fields]
    )
