"""Language tags: the one rule (BCP 47 language, script, region, variants) and its usual casing."""

from __future__ import annotations

import re

LANGUAGE_TAG = re.compile(
    r"^[A-Za-z]{2,3}(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|\d{3}))?(?:-[A-Za-z0-9]{5,8})*$"
)
MAX_TAG_LENGTH = 35


def is_language_tag(value: str) -> bool:
    return len(value) <= MAX_TAG_LENGTH and LANGUAGE_TAG.match(value) is not None


def normalize_language_tag(value: str) -> str:
    """`EN-us` -> `en-US`: BCP 47's usual casing, so look-ups by tag match; ValueError otherwise."""
    if not is_language_tag(value):
        raise ValueError("Not a language tag such as en, de-CH or zh-Hant-TW.")
    parts = value.split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            out.append(part.title())
        elif len(part) == 2 or (len(part) == 3 and part.isdigit()):
            out.append(part.upper())
        else:
            out.append(part.lower())
    return "-".join(out)
