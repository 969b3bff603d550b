"""The widget's built-in texts: the 24 official EU languages, every key in each, templates with
the same placeholders, and exactly the keys the widget's source uses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from widget_server.domain.texts import DEFAULT_TEXTS, texts_for

# bg cs da de el en es et fi fr ga hr hu it lt lv mt nl pl pt ro sk sl sv
EU_LANGUAGES = {
    *("bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr"),
    *("hu", "it", "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv"),
}
SOURCE = Path(__file__).resolve().parent.parent / "widget" / "src"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_the_24_official_eu_languages() -> None:
    assert set(DEFAULT_TEXTS) == EU_LANGUAGES


@pytest.mark.parametrize("lang", sorted(EU_LANGUAGES))
def test_every_language_has_every_key_and_the_same_placeholders(lang: str) -> None:
    english, texts = DEFAULT_TEXTS["en"], DEFAULT_TEXTS[lang]
    assert list(texts) == list(english)
    for key, text in texts.items():
        assert text, (lang, key)
        assert text.strip() == text, (lang, key)
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(english[key])), (
            lang,
            key,
        )
    if lang != "en":
        # Translated, not copied: a language shares at most its loanwords with English.
        same = [k for k in texts if texts[k] == english[k]]
        assert len(same) <= 8, (lang, same)


def test_sentences_with_a_value_are_templates() -> None:
    english = DEFAULT_TEXTS["en"]
    assert english["agree"] == "By sending you agree to our {link}."
    assert PLACEHOLDER.findall(english["blocked"]) == ["title", "purposes"]
    assert PLACEHOLDER.findall(english["allow"]) == ["purposes"]


def widget_keys() -> set[str]:
    """Text keys the widget's source asks for: t('key'), tpl('key', …), button('key', …), and
    the literals inside t(…) (t(on ? 'sending' : 'send'))."""
    used = {"required", "invalid_email"}  # form.js: t(problem), problem one of these
    for path in SOURCE.glob("*.js"):
        code = path.read_text("utf-8")
        used |= set(re.findall(r"\b(?:tpl|button)\('(\w+)'", code))
        for inside in re.findall(r"\bt\(([^()]*)\)", code):
            used |= set(re.findall(r"'(\w+)'", inside))
    return used


def test_the_widget_uses_only_keys_the_server_has() -> None:
    used = widget_keys()
    assert "accept_all" in used
    assert "record_receipt" in used
    assert used <= set(DEFAULT_TEXTS["en"]), used - set(DEFAULT_TEXTS["en"])


def test_a_language_without_texts_falls_back_per_key() -> None:
    chosen, texts = texts_for("pt-BR", "en", {})
    assert chosen == "pt"
    assert texts["accept_all"] == "Aceitar tudo"
    chosen, texts = texts_for("ja", "de", {"de": {"accept_all": "Alles klar"}})
    assert (chosen, texts["accept_all"], texts["reject_all"]) == (
        "de",
        "Alles klar",
        "Alle ablehnen",
    )
