"""Spam rules for the info-request form: bots get the same answer as people, and learn nothing."""

from __future__ import annotations

MIN_FILL_MS = 1500


def spam_reason(honeypot: str | None, elapsed_ms: int) -> str | None:
    """Why a submission is spam (a filled honeypot, a form filled faster than a person can), or None."""
    if honeypot:
        return "honeypot"
    if elapsed_ms < MIN_FILL_MS:
        return "too_fast"
    return None
