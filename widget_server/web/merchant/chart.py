"""A small accessible SVG bar chart of one number per day, drawn by the server: no script, no style."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 40, 36
BAR, GRID, INK, PAPER = "#1d4ed8", "#d1d5db", "#1f2937", "#ffffff"
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="12"'
CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"
METRIC_TEXT = {
    "pageviews": ("Page views per day", "page views"),
    "visitors": ("Visitors per day", "visitors"),
    "consent_rate": (
        "Consent rate per day (visitors who answered the consent notice, per 100 visitors)",
        "%",
    ),
}


def _nice_top(value: float) -> float:
    """The smallest 1, 2, 4 or 5 times a power of ten at or above `value`, at least 2 (so the
    middle line of a count is a whole number)."""
    if value <= 2:
        return 2.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 4, 5, 10):
        if step * power >= value:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def _number(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def _value_text(value: float | None, metric: str) -> str:
    unit = METRIC_TEXT[metric][1]
    if value is None:
        return "no visitors" if metric == "consent_rate" else "no data"
    return f"{_number(value)}%" if unit == "%" else f"{_number(value)} {unit}"


def describe(series: Sequence[tuple[dt.date, float | None]], metric: str, zone: str) -> str:
    """The chart in words: what it shows, the total or mean, the highest day, and every day."""
    title = METRIC_TEXT[metric][0]
    known = [(d, v) for d, v in series if v is not None]
    parts = [f"{title}, {series[0][0]} to {series[-1][0]} (days in {zone})."]
    if known:
        high = max(known, key=lambda item: item[1])
        if metric == "consent_rate":
            mean = sum(v for _, v in known) / len(known)
            parts.append(f"Mean of the days with visitors: {_number(round(mean, 1))}%.")
        else:
            parts.append(f"Total: {_value_text(sum(v for _, v in known), metric)}.")
        parts.append(f"Highest: {_value_text(high[1], metric)} on {high[0]}.")
    parts.append(
        "Each day: " + "; ".join(f"{d}: {_value_text(v, metric)}" for d, v in series) + "."
    )
    return " ".join(parts)


def render(series: Sequence[tuple[dt.date, float | None]], metric: str, zone: str) -> str:
    """The SVG document; every text in it is escaped."""
    title = METRIC_TEXT[metric][0]
    top = (
        100.0
        if metric == "consent_rate"
        else _nice_top(max((v or 0 for _, v in series), default=0))
    )
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(series)
    gap = slot * 0.2 if slot >= 4 else 0.0
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title chart-desc">',
        f'<title id="chart-title">{escape(f"{title}, {series[0][0]} to {series[-1][0]}")}</title>',
        f'<desc id="chart-desc">{escape(describe(series, metric, zone))}</desc>',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="{PAPER}"/>',
        f'<text x="{LEFT}" y="22" fill="{INK}" {FONT} font-weight="600">{escape(title)}</text>',
        f'<g aria-hidden="true" {FONT} fill="{INK}">',
    ]
    for i in range(3):
        mark = top * i / 2
        y = TOP + plot_h - plot_h * i / 2
        label = f"{_number(mark)}%" if metric == "consent_rate" else _number(mark)
        out.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>'
        )
    first, last = series[0][0], series[-1][0]
    out.append(f'<text x="{LEFT}" y="{HEIGHT - 12}">{escape(str(first))}</text>')
    if last != first:
        out.append(
            f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 12}" text-anchor="end">{escape(str(last))}</text>'
        )
    out.append("</g>")
    out.append(f'<g fill="{BAR}">')
    for i, (day, value) in enumerate(series):
        if value is None:
            continue
        h = plot_h * min(value, top) / top
        x = LEFT + i * slot + gap / 2
        out.append(
            f'<rect x="{x:.2f}" y="{TOP + plot_h - h:.2f}" width="{max(slot - gap, 0.5):.2f}" '
            f'height="{h:.2f}"><title>{escape(f"{day}: {_value_text(value, metric)}")}</title></rect>'
        )
    out.append("</g></svg>")
    return "\n".join(out)
