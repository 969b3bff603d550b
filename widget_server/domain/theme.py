"""Theme colours: the pairs a visitor reads must keep WCAG AA contrast (4.5:1)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from widget_server.domain.defaults import DEFAULT_THEME

# Foreground and background of what the visitor reads: the buttons, and the notice itself.
CONTRAST_PAIRS = (("accent", "accent_text"), ("background", "text"))
MIN_CONTRAST = 4.5
COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")


def _luminance(colour: str) -> float:
    """WCAG relative luminance of #rgb or #rrggbb."""
    digits = colour[1:] if len(colour) == 7 else "".join(c * 2 for c in colour[1:])
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def weak_pairs(theme: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The pairs of `theme` (defaults filling what it leaves out) under the minimum contrast."""
    full = {**DEFAULT_THEME, **theme}
    weak = []
    for pair in CONTRAST_PAIRS:
        a, b = (full.get(k) for k in pair)
        valid = all(isinstance(v, str) and COLOUR.fullmatch(v) for v in (a, b))
        if not valid or contrast(str(a), str(b)) < MIN_CONTRAST:
            weak.append(pair)
    return weak


def safe_theme(theme: Mapping[str, Any]) -> dict[str, str]:
    """The theme the widget is sent: each pair the site's own when it is readable, else the
    default pair (a theme saved before the rule, or edited in the database, cannot hide text)."""
    safe = {**DEFAULT_THEME, **{k: str(v) for k, v in theme.items() if isinstance(v, str)}}
    for pair in weak_pairs(theme):
        safe.update({k: DEFAULT_THEME[k] for k in pair})
    return safe
