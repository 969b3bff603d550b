"""Field types shared by the merchant API's schemas: strict JSON types, times, language tags, texts."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError, fields, validate

from widget_server.domain.languages import LANGUAGE_TAG, MAX_TAG_LENGTH, normalize_language_tag
from widget_server.domain.origins import normalize_origin

MAX_TEXT = 2000


@dataclass(frozen=True)
class FormFieldType:
    """One kind of form field: its default length (None: it has no length) and whether it is a
    single line (single-line values may end up in mail headers and CSV cells: no line breaks)."""

    default_max_length: int | None
    single_line: bool


# The one table of form field types, for the form a merchant saves and the values a visitor sends.
FORM_FIELD_TYPES: dict[str, FormFieldType] = {
    "text": FormFieldType(200, single_line=True),
    "email": FormFieldType(254, single_line=True),
    "tel": FormFieldType(40, single_line=True),
    "textarea": FormFieldType(5000, single_line=False),
    "select": FormFieldType(200, single_line=True),
    "checkbox": FormFieldType(None, single_line=True),
}
MAX_FIELD_LENGTH = 10_000
# Field ranges spelled out (not just \d{2}) so the documented pattern admits no month 13 or hour 24.
_YEAR = r"(?:\d{3}[1-9]|\d{2}[1-9]\d|\d[1-9]\d{2}|[1-9]\d{3})"
_DATE = _YEAR + r"-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
_TIME = r"(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,9})?"
_OFFSET = r"(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)"
RFC3339_OR_DATE = re.compile(f"^{_DATE}(?:[Tt ]{_TIME}{_OFFSET})?$")
SPACED_OFFSET = re.compile(r"^(.+\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?) (\d{2}:\d{2})$")

UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def unstorable_text(data: Any, path: str = "") -> dict[str, list[str]]:
    """Paths of strings Postgres cannot hold (NUL, lone surrogates from JSON escapes): a 422, not a 500."""
    found: dict[str, list[str]] = {}
    if isinstance(data, str):
        if UNSTORABLE.search(data):
            found[path or "_body"] = ["Contains a NUL character or invalid Unicode."]
    elif isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            if UNSTORABLE.search(str(key)):
                found[where.encode("utf-8", "backslashreplace").decode()] = [
                    "The name is not valid Unicode."
                ]
            else:
                found.update(unstorable_text(value, where))
    elif isinstance(data, list):
        for i, item in enumerate(data):
            found.update(unstorable_text(item, f"{path}.{i}" if path else str(i)))
    return found


# -- strict JSON fields: marshmallow's defaults coerce "yes" to True and 1.0 to 1; a typed API should not.


class StrictBoolean(fields.Boolean):
    """Only JSON true or false."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class StrictInteger(fields.Integer):
    """Only JSON integers (not true, not 1.5, not "1")."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class UtcDateTime(fields.DateTime):
    """RFC 3339 in UTC with a `Z`, the only time format the API writes."""

    def _serialize(
        self, value: dt.datetime | None, attr: str | None, obj: Any, **kwargs: Any
    ) -> str | None:
        if value is None:
            return None
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class LanguageTag(fields.String):
    """A BCP 47 language tag, returned in canonical casing."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {})
        kwargs["metadata"].setdefault("pattern", LANGUAGE_TAG.pattern)
        kwargs["metadata"].setdefault("examples", ["en", "de-CH"])
        super().__init__(validate=validate.Length(max=MAX_TAG_LENGTH), **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalize_language_tag(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class TimeBound(fields.String):
    """An RFC 3339 time (with offset) or a date; returns a datetime or a date."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {
            "pattern": RFC3339_OR_DATE.pattern,
            "description": "An RFC 3339 time such as 2024-05-01T08:00:00Z, or a date such as 2024-05-01 "
            "(a day in the site's time zone).",
        }
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(  # type: ignore[override]
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> dt.datetime | dt.date:
        text = _unspaced_offset(super()._deserialize(value, attr, data, **kwargs))
        if not RFC3339_OR_DATE.match(text):
            raise ValidationError(
                "Not an RFC 3339 time (2024-05-01T08:00:00Z) or a date (2024-05-01)."
            )
        try:
            if len(text) == 10:
                return dt.date.fromisoformat(text)
            return dt.datetime.fromisoformat(_trim_fraction(text.replace("z", "Z")))
        except ValueError:
            raise ValidationError("Not a real date or time.") from None


def _unspaced_offset(text: str) -> str:
    """`…T10:00:00 02:00` -> `…T10:00:00+02:00`: in a query string an unencoded `+` arrives as a space."""
    return SPACED_OFFSET.sub(r"\1+\2", text)


def _trim_fraction(text: str) -> str:
    """Python keeps microseconds; RFC 3339 allows more digits, which Postgres would round anyway."""
    return re.sub(r"(\.\d{6})\d+", r"\1", text)


class LocalizedText(fields.Field[str | dict[str, str]]):
    """A text, or the same text per language: `"Name"` or `{"en": "Name", "de": "Name"}`."""

    def __init__(self, *, allow_blank: bool = False, **kwargs: Any) -> None:
        self.allow_blank = allow_blank
        kwargs.setdefault("metadata", {})
        text: dict[str, Any] = {"type": "string", "maxLength": MAX_TEXT}
        if not allow_blank:
            text.update(minLength=1, pattern=r"\S")
        kwargs["metadata"].setdefault(
            "oneOf",
            [
                text,
                {
                    "type": "object",
                    "propertyNames": {"pattern": LANGUAGE_TAG.pattern, "maxLength": 35},
                    "additionalProperties": text,
                    "minProperties": 1,
                    "maxProperties": 50,
                },
            ],
        )
        super().__init__(**kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str | dict[str, str]:
        if isinstance(value, str):
            return self._one(value)
        if isinstance(value, dict):
            if not value:
                raise ValidationError("Give at least one language.")
            if len(value) > 50:
                raise ValidationError("At most 50 languages.")
            out: dict[str, str] = {}
            for lang, text in value.items():
                if not isinstance(text, str):
                    raise ValidationError(f"{lang}: not a string.")
                if len(lang) > 35:
                    raise ValidationError("A language tag has at most 35 characters.")
                try:
                    tag = normalize_language_tag(lang)
                except ValueError as exc:
                    raise ValidationError(str(exc)) from None
                out[tag] = self._one(text)
            return out
        raise ValidationError("A string, or an object of strings by language.")

    def _one(self, text: str) -> str:
        if not self.allow_blank and not text.strip():
            raise ValidationError("May not be empty.")
        if len(text) > MAX_TEXT:
            raise ValidationError(f"At most {MAX_TEXT} characters.")
        return text


class SelectOption(fields.Field[str | dict[str, Any]]):
    """A choice: its value, or `{value, label}` with a label (per language) shown instead."""

    def __init__(self, **kwargs: Any) -> None:
        value = {"type": "string", "minLength": 1, "maxLength": 200}
        kwargs["metadata"] = {
            "oneOf": [
                value,
                {
                    "type": "object",
                    "properties": {"value": value, "label": LocalizedText().metadata},
                    "required": ["value", "label"],
                    "additionalProperties": False,
                },
            ]
        }
        super().__init__(**kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str | dict[str, Any]:
        if isinstance(value, str):
            return self._value(value)
        if (
            isinstance(value, dict)
            and set(value) == {"value", "label"}
            and isinstance(value["value"], str)
        ):
            return {
                "value": self._value(value["value"]),
                "label": LocalizedText().deserialize(value["label"]),
            }
        raise ValidationError("A string, or {value, label}.")

    @staticmethod
    def _value(text: str) -> str:
        if not text.strip() or len(text) > 200:
            raise ValidationError("An option has 1 to 200 characters.")
        return text


class Origin(fields.String):
    """`HTTPS://Shop.Example:443/` -> `https://shop.example`; paths, user names and wildcards refused."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 300:
            raise ValidationError("At most 300 characters.")
        try:
            return normalize_origin(text)
        except ValueError as exc:
            raise ValidationError(f"Not an origin like https://shop.example: {exc}.") from None
