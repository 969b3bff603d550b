"""Shapes of the statistics endpoints: the query (days in the site's time zone) and the answer."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

METRICS = ("pageviews", "visitors", "consent_rate")
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class Day(fields.String):
    """A calendar date, YYYY-MM-DD, nothing else."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"pattern": _DAY.pattern, "examples": ["2024-05-01"]}
        metadata.update(kwargs.pop("metadata", {}))
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(  # type: ignore[override]
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> dt.date:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not _DAY.match(text):
            raise ValidationError("Not a date such as 2024-05-01.")
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise ValidationError("Not a real date.") from None


class StatsRangeQuery(Schema):
    from_ = Day(
        data_key="from",
        attribute="first",
        metadata={"description": "The first day, included (default: 29 days before `to`)."},
    )
    to = Day(
        attribute="last",
        metadata={"description": "The last day, included (default: today in the site's zone)."},
    )


class StatsQuery(StatsRangeQuery):
    limit = fields.Integer(
        load_default=10,
        validate=validate.Range(1, 100),
        metadata={"description": "How many top pages and referrers."},
    )


class StatsChartQuery(StatsRangeQuery):
    metric = fields.String(
        load_default="pageviews",
        validate=validate.OneOf(METRICS),
        metadata={"description": "What each bar shows."},
    )


def _count(description: str) -> fields.Integer:
    return fields.Integer(required=True, metadata={"description": description})


def _ms(description: str) -> fields.Integer:
    return fields.Integer(required=True, allow_none=True, metadata={"description": description})


AVG = "Mean visible-and-focused time per engagement beacon; null without any."


class StatsTotalsSchema(Schema):
    pageviews = _count("Page views.")
    visitors = _count("Visitors, counted per day and summed (a visitor of two days counts twice).")
    avg_time_on_page_ms = _ms(AVG)
    consents = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "Consent records by action."},
    )
    requests = _count("Info requests not marked spam.")


class StatsDaySchema(Schema):
    date = fields.Date(required=True)
    pageviews = _count("Page views.")
    visitors = _count("Distinct visitors of the day.")
    avg_time_on_page_ms = _ms(AVG)
    median_time_on_page_ms = _ms("Median visible time per engagement beacon; null without any.")
    consents = _count("Consent records of the day, every action.")
    visitors_decided = _count("Visitors who answered the consent notice that day.")
    consent_rate = fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "visitors_decided per 100 visitors; null without visitors."},
    )
    requests = _count("Info requests not marked spam.")
    final = fields.Boolean(
        required=True,
        metadata={"description": "Whether the day is over and its counts will not change."},
    )


class StatsPageSchema(Schema):
    path = fields.String(required=True)
    pageviews = _count("Page views.")
    avg_time_on_page_ms = _ms(AVG)


class StatsReferrerSchema(Schema):
    host = fields.String(required=True)
    visits = _count("Page views that arrived from this host.")


class StatsConsentSchema(Schema):
    policy_version = fields.Integer(required=True)
    decisions = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    granted = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "Notice decisions that granted each purpose."},
    )
    visitors_counted = _count("Visitors counted while this version was current.")
    visitors_decided = _count(
        "Visitors who answered the notice for this version (per day, summed); the rest of "
        "visitors_counted is the consent gap. Counted apart: never matched with visits."
    )


class StatsSchema(Schema):
    totals = fields.Nested(StatsTotalsSchema, required=True)
    days = fields.List(fields.Nested(StatsDaySchema), required=True)
    top_pages = fields.List(fields.Nested(StatsPageSchema), required=True)
    top_referrers = fields.List(fields.Nested(StatsReferrerSchema), required=True)
    consent = fields.List(fields.Nested(StatsConsentSchema), required=True)


STATS = StatsSchema()
