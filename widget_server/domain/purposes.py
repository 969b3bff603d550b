"""Consent purposes, and what each ends as: the server decides, never the client."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from widget_server.domain.errors import Invalid

Localized = str | Mapping[str, str]
GPC_DENIED = "marketing"
ACTIONS = ("accept_all", "reject_all", "custom", "withdraw")


@dataclass(frozen=True)
class Purpose:
    key: str
    label: Localized
    description: Localized
    required: bool


def resolve_purposes(
    purposes: Sequence[Purpose], action: str, given: Mapping[str, bool], gpc: bool
) -> dict[str, bool]:
    """Required always on; reject/withdraw deny the rest; GPC denies marketing unless the visitor
    switched it on themselves in a custom choice. Unknown keys are Invalid."""
    known = {p.key for p in purposes}
    unknown = [key for key in given if key not in known]
    if unknown:
        raise Invalid({f"purposes.{key}": ["Unknown purpose."] for key in unknown})
    resolved: dict[str, bool] = {}
    for p in purposes:
        if p.required:
            resolved[p.key] = True
        elif action == "accept_all":
            resolved[p.key] = not (gpc and p.key == GPC_DENIED)
        elif action == "custom":
            resolved[p.key] = given.get(p.key, False)
        else:  # reject_all, withdraw
            resolved[p.key] = False
    return resolved


def required_only(purposes: Sequence[Purpose]) -> dict[str, bool]:
    """Agreeing to the terms grants what is always granted and decides nothing else."""
    return {p.key: True for p in purposes if p.required}
