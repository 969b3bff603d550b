"""A site as the widget API sees it: read once from the database, through the schemas that wrote it."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from marshmallow import Schema

from widget_server.db.queries import policies, sites
from widget_server.domain.origins import normalize_origin
from widget_server.domain.purposes import Localized, Purpose
from widget_server.domain.rows import Row
from widget_server.schemas.site import FormSchema, PurposeSchema
from widget_server.schemas.widget import FieldSpec, build_request_schema, email_field


@dataclass(frozen=True)
class FormField:
    spec: FieldSpec
    label: Localized
    options: tuple[tuple[str, Localized], ...]


@dataclass(frozen=True)
class Policy:
    version: int
    title: str
    body: str
    language: str
    sha256: str
    published_at: Any

    def as_row(self) -> dict[str, Any]:
        return {"version": self.version, "sha256": self.sha256}


@dataclass
class Site:
    """What the widget API needs of one enabled site, plus lazily built derived objects."""

    site_id: uuid.UUID
    site_key: str
    name: str
    allowed_origins: frozenset[str]
    default_locale: str
    purposes: tuple[Purpose, ...]
    form_fields: tuple[FormField, ...]
    opt_in_label: Localized | None
    texts: dict[str, dict[str, str]]
    theme: dict[str, Any]
    consent_expiry_days: int
    store_user_agent: bool
    policy: Policy | None
    time_zone: str = "UTC"
    stats_mode: str = "always"
    rendered: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    _request_schema: Schema | None = None

    @property
    def specs(self) -> tuple[FieldSpec, ...]:
        return tuple(f.spec for f in self.form_fields)

    @property
    def email_field(self) -> str | None:
        return email_field(self.specs)

    def request_schema(self) -> Schema:
        if self._request_schema is None:
            self._request_schema = build_request_schema(self.specs)
        return self._request_schema


def _origins(values: Any) -> frozenset[str]:
    out = set()
    for value in values or ():
        with contextlib.suppress(ValueError, TypeError):
            out.add(normalize_origin(value))
    return frozenset(out)


def _form(stored: Any) -> tuple[tuple[FormField, ...], Localized | None]:
    """The stored form, read back by the schema that validated it when it was saved."""
    form = FormSchema().load(stored)
    found = []
    for f in form["fields"]:
        options = tuple(
            (o, o) if isinstance(o, str) else (o["value"], o["label"])
            for o in f.get("options") or ()
        )
        spec = FieldSpec(
            name=f["name"],
            type=f["type"],
            required=f["required"],
            max_length=f.get("max_length"),
            options=tuple(v for v, _ in options),
        )
        found.append(FormField(spec, f["label"], options))
    opt_in = form["marketing_opt_in"]
    return tuple(found), (opt_in["label"] if opt_in else None)


def _purposes(stored: Any) -> tuple[Purpose, ...]:
    loaded = PurposeSchema(many=True).load(stored)
    purposes = tuple(Purpose(p["key"], p["label"], p["description"], p["required"]) for p in loaded)
    if not any(p.key == "necessary" for p in purposes):
        # The contract promises `necessary` in every config.
        purposes = (Purpose("necessary", "Necessary", "", True), *purposes)
    return purposes


def build_site(row: Row, policy: Row | None) -> Site:
    form_fields, opt_in_label = _form(row["form"])
    texts = row["texts"] if isinstance(row["texts"], dict) else {}
    return Site(
        site_id=row["site_id"],
        site_key=row["site_key"],
        name=row["name"],
        allowed_origins=_origins(row["allowed_origins"]),
        default_locale=row["default_locale"],
        purposes=_purposes(row["purposes"]),
        form_fields=form_fields,
        opt_in_label=opt_in_label,
        texts={k: v for k, v in texts.items() if isinstance(v, dict)},
        theme=row["theme"] if isinstance(row["theme"], dict) else {},
        consent_expiry_days=row["consent_expiry_days"],
        store_user_agent=row["store_user_agent"],
        policy=Policy(**{k: policy[k] for k in Policy.__dataclass_fields__}) if policy else None,
        time_zone=row["time_zone"],
        stats_mode=row["stats_mode"],
    )


async def load_enabled(conn: asyncpg.Connection, site_key: str) -> Site | None:
    """The enabled site with this key and its current policy, or None."""
    row = await sites.by_key(conn, site_key)
    if row is None or row["disabled_at"] is not None:
        return None
    return build_site(row, await policies.current(conn, row["site_id"]))
