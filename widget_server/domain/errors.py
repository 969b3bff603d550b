"""Domain errors: what a service raises; only the web layer turns them into problem+json."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DomainError(Exception):
    """A rule said no; `detail` is a sentence fit to show the caller."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    """Nothing by that name, or it belongs to someone else (the two look the same)."""


class Conflict(DomainError):
    """The request is well formed but clashes with the current state (a stale policy, say)."""

    def __init__(
        self, detail: str, *, slug: str = "conflict", extra: Mapping[str, Any] | None = None
    ):
        super().__init__(detail)
        self.slug = slug
        self.extra = dict(extra or {})


class Unauthorized(DomainError):
    """No credentials, or credentials that are not (or no longer) valid."""


class Forbidden(DomainError):
    """Valid credentials that do not allow this."""


class Invalid(DomainError):
    """Input that breaks a rule, with messages by field (`a.b` for nested fields)."""

    def __init__(
        self, errors: Mapping[str, list[str]], detail: str = "The request has invalid fields."
    ) -> None:
        super().__init__(detail)
        self.errors = {k: list(v) for k, v in errors.items()}

    @classmethod
    def of(cls, messages: Any, detail: str = "The request has invalid fields.") -> Invalid:
        """From marshmallow's nested messages (a dict, a list, or a string)."""
        if not isinstance(messages, Mapping):
            messages = {"_schema": messages if isinstance(messages, list) else [messages]}
        return cls(flatten_errors(messages), detail)


class Unavailable(DomainError):
    """Something the operation needs is not set up (mail, say), or not reachable now."""


def flatten_errors(errors: Mapping[str, Any], prefix: str = "") -> dict[str, list[str]]:
    """Marshmallow's nested messages as {"a.b": [msg, ...]}; a top-level `_schema` is `_body`."""
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
