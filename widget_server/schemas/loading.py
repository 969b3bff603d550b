"""Loading input through a schema: the one place a marshmallow error becomes a domain Invalid."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError

from widget_server.domain.errors import Invalid
from widget_server.schemas.fields import unstorable_text


def load(schema: Schema, data: Any, *, screen: bool = True, **kwargs: Any) -> dict[str, Any]:
    """`schema.load(data)` or Invalid with messages by field. `screen` first refuses a non-object
    and any string Postgres cannot store (NUL, lone surrogates); schemas that refuse those
    themselves with their own messages (the widget's) pass `screen=False`."""
    if screen:
        if not isinstance(data, dict):
            raise Invalid({"_body": ["Expected an object."]}, "The body must be a JSON object.")
        unstorable = unstorable_text(data)
        if unstorable:
            raise Invalid(unstorable)
    try:
        loaded: dict[str, Any] = schema.load(data, **kwargs)
    except ValidationError as exc:
        raise Invalid.of(exc.messages) from None
    return loaded
