"""What a site gets when created without its own form or purposes."""

from __future__ import annotations

from typing import Any

from widget_server.domain.texts import DEFAULT_TEXTS


def localized(key: str) -> dict[str, str]:
    """One built-in text in every built-in language: {"en": ..., "de": ..., "fr": ...}."""
    return {lang: texts[key] for lang, texts in DEFAULT_TEXTS.items() if key in texts}


def default_form() -> dict[str, Any]:
    return {
        "fields": [
            {
                "name": "name",
                "type": "text",
                "label": localized("name"),
                "required": True,
                "max_length": 200,
            },
            {
                "name": "email",
                "type": "email",
                "label": localized("email"),
                "required": True,
                "max_length": 254,
            },
            {
                "name": "phone",
                "type": "tel",
                "label": localized("phone"),
                "required": False,
                "max_length": 40,
            },
            {
                "name": "message",
                "type": "textarea",
                "label": localized("message"),
                "required": True,
                "max_length": 5000,
            },
        ],
        "marketing_opt_in": {"label": localized("marketing_opt_in")},
    }


def default_purposes() -> list[dict[str, Any]]:
    return [
        {
            "key": key,
            "label": localized(f"purpose_{key}"),
            "description": localized(f"purpose_{key}_desc"),
            "required": key == "necessary",
        }
        for key in ("necessary", "analytics", "marketing")
    ]


DEFAULT_THEME: dict[str, str] = {
    "accent": "#1d4ed8",
    "accent_text": "#ffffff",
    "background": "#ffffff",
    "text": "#111827",
}
