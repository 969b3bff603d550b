"""What a site owner pastes and links to: the script tag and the policy page's address."""

from __future__ import annotations

import html


def snippet(public_url: str, site_key: str) -> str:
    """The script tag, with both values escaped for the attribute they sit in."""
    return (
        f'<script async src="{html.escape(public_url)}/widget.js" '
        f'data-site="{html.escape(site_key)}"></script>'
    )


def policy_url(public_url: str, site_key: str, version: int | None = None) -> str:
    tail = "" if version is None else f"/{version}"
    return f"{public_url.rstrip('/')}/policy/{site_key}{tail}"
