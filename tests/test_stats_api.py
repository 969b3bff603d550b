"""GET /v1/sites/SITE_KEY/stats and stats.svg: query validation, the answer's shape, the consent
part, the chart, and another merchant's site."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import Tenant
from tests.merchant_support import insert_request, read_only_key
from tests.stats_support import Hit, StatsSite, ingest, utc
from tests.test_openapi import conforms, document, response_schema
from widget_server.domain.ids import uuid7
from widget_server.services import rollups

Client = TestClient[Any, Any]
SVG_NS = "{http://www.w3.org/2000/svg}"


async def get(client: Client, tenant: Tenant, path: str = "stats", **params: str) -> Any:
    return await client.get(
        f"/v1/sites/{tenant.site_key}/{path}", params=params, headers=tenant.auth
    )


async def test_default_is_the_last_30_days_in_the_sites_zone(
    client: Client, make_tenant: Callable[..., Awaitable[Tenant]]
) -> None:
    tenant = await make_tenant("Far east", time_zone="Pacific/Kiritimati")
    r = await get(client, tenant)
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("application/json")
    answer = await r.json()
    assert set(answer) == {"totals", "days", "top_pages", "top_referrers", "consent"}
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=14))).date()
    dates = [d["date"] for d in answer["days"]]
    assert len(dates) == 30
    assert dates[-1] in {today.isoformat(), (today - dt.timedelta(days=1)).isoformat()}
    assert answer["totals"] == {
        "pageviews": 0,
        "visitors": 0,
        "avg_time_on_page_ms": None,
        "consents": dict.fromkeys(
            ["accept_all", "reject_all", "custom", "withdraw", "accept_terms"], 0
        ),
        "requests": 0,
    }
    assert set(answer["days"][0]) == {
        "date", "pageviews", "visitors", "avg_time_on_page_ms", "median_time_on_page_ms",
        "consents", "visitors_decided", "consent_rate", "requests", "final",
    }  # fmt: skip
    assert answer["top_pages"] == answer["top_referrers"] == answer["consent"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2024-13-01"}, "from"),
        ({"from": "2024-02-30"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2024-5-1"}, "from"),
        ({"from": "2024-05-01T00:00:00Z"}, "from"),
        ({"to": "' OR 1=1 --"}, "to"),
        ({"to": "<script>alert(1)</script>"}, "to"),
        ({"to": '=HYPERLINK("x")'}, "to"),
        ({"to": "２０２４-05-01"}, "to"),
        ({"to": "2024-05-01\x00"}, "to"),
        ({"to": ""}, "to"),
        ({"from": "2024-05-02", "to": "2024-05-01"}, "to"),
        ({"from": "2023-01-01", "to": "2024-02-05"}, "to"),  # 401 days
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
    ],
)
async def test_bad_queries_are_422(
    client: Client, db: asyncpg.Connection, tenant: Tenant, params: dict[str, str], field: str
) -> None:
    r = await get(client, tenant, **params)
    assert r.status == 422, await r.text()
    assert r.headers["Content-Type"].startswith("application/problem+json")
    problem = await r.json()
    assert field in problem["errors"]


async def test_repeated_parameters_are_422_and_unknown_ones_ignored(
    client: Client, tenant: Tenant
) -> None:
    r = await client.get(
        f"/v1/sites/{tenant.site_key}/stats?from=2024-05-01&from=2024-05-02", headers=tenant.auth
    )
    assert r.status == 422
    r = await get(client, tenant, **{"from": "2024-05-01", "to": "2024-05-01", "utm": "x"})
    assert r.status == 200


async def test_ranges_up_to_400_days_and_the_ends_of_the_calendar(
    client: Client, tenant: Tenant
) -> None:
    r = await get(client, tenant, **{"from": "2023-01-01", "to": "2024-02-04"})
    assert r.status == 200
    assert len((await r.json())["days"]) == 400
    for first, last in (("0001-01-01", "0001-01-31"), ("9999-12-01", "9999-12-31")):
        r = await get(client, tenant, **{"from": first, "to": last})
        assert r.status == 200, await r.text()
        assert (await r.json())["days"][-1]["date"] == last
    r = await get(client, tenant, to="0001-01-10")  # `from` by default would be before year 1
    assert r.status == 200
    assert (await r.json())["days"][0]["date"] == "0001-01-01"


async def test_another_merchants_site_is_404_and_a_read_key_may_read(
    client: Client, db: asyncpg.Connection, tenant: Tenant, other_tenant: Tenant
) -> None:
    for path in ("stats", "stats.svg"):
        r = await client.get(f"/v1/sites/{tenant.site_key}/{path}", headers=other_tenant.auth)
        assert r.status == 404
        r = await client.get(f"/v1/sites/{tenant.site_key}/{path}")
        assert r.status == 401
        key = await read_only_key(db, tenant)
        r = await client.get(
            f"/v1/sites/{tenant.site_key}/{path}", headers={"Authorization": f"Bearer {key}"}
        )
        assert r.status == 200


async def add_consent(
    db: asyncpg.Connection,
    tenant: Tenant,
    at: dt.datetime,
    action: str,
    version: int,
    visitor: str,
    purposes: dict[str, bool],
) -> None:
    import uuid

    await db.execute(
        """INSERT INTO consent_records (site_id, record_id, event_id, visitor_id, action, surface,
               purposes, policy_version, policy_sha256, language, page_origin, page_path, gpc,
               created_at, valid_until, receipt)
           VALUES ($1, $2, $3, $4, $5, 'banner', $6, $7, 'h', 'en', 'https://shop.example', '/',
                   false, $8, $8, 'r')""",
        tenant.site_id,
        uuid7(),
        uuid.uuid4(),
        visitor,
        action,
        purposes,
        version,
        at,
    )


async def test_the_consent_part_and_the_consent_gap(
    client: Client, db: asyncpg.Connection, make_tenant: Callable[..., Awaitable[Tenant]]
) -> None:
    tenant = await make_tenant(
        "Gap", policy=False, purposes=[{"key": "analytics"}, {"key": "ads", "label": "Ads"}]
    )
    for version, at in ((1, utc(2024, 5, 1)), (2, utc(2024, 5, 6, 12))):
        await db.execute(
            """INSERT INTO policies (site_id, version, title, body, language, sha256, published_at)
               VALUES ($1, $2, 'T', 'B', 'en', 'h', $3)""",
            tenant.site_id,
            version,
            at,
        )
    site = StatsSite(tenant.site_id)
    # Five visitors in the morning (version 1 current), four in the evening (version 2).
    hits = [Hit(utc(2024, 5, 6, 9), "/", ip=f"203.0.113.{i}") for i in range(5)]
    hits += [Hit(utc(2024, 5, 6, 20), "/", ip=f"198.51.100.{i}") for i in range(4)]
    await ingest(db, site, hits)
    everything = {"necessary": True, "analytics": True, "ads": True}
    await add_consent(db, tenant, utc(2024, 5, 6, 9, 5), "accept_all", 1, "v1", everything)
    await add_consent(
        db,
        tenant,
        utc(2024, 5, 6, 9, 6),
        "reject_all",
        1,
        "v2",
        {"necessary": True, "analytics": False, "ads": False},
    )
    await add_consent(
        db,
        tenant,
        utc(2024, 5, 6, 9, 7),
        "withdraw",
        1,
        "v2",
        {"necessary": True, "analytics": False, "ads": False},
    )
    await add_consent(
        db,
        tenant,
        utc(2024, 5, 6, 20, 1),
        "custom",
        2,
        "v3",
        {"necessary": True, "analytics": True, "ads": False},
    )
    await add_consent(
        db, tenant, utc(2024, 5, 6, 20, 2), "accept_terms", 2, "v4", {"necessary": True}
    )
    await insert_request(db, tenant, created_at=utc(2024, 5, 6, 20, 2))
    await insert_request(db, tenant, created_at=utc(2024, 5, 6, 20, 3), status="spam")
    for phase in ("open", "final"):
        if phase == "final":
            await rollups.run(db, utc(2024, 5, 9))
        answer = await (
            await get(client, tenant, **{"from": "2024-05-06", "to": "2024-05-06"})
        ).json()
        assert answer["consent"] == [
            {
                "policy_version": 1,
                "decisions": {
                    "accept_all": 1,
                    "reject_all": 1,
                    "custom": 0,
                    "withdraw": 1,
                    "accept_terms": 0,
                },
                "granted": {"necessary": 3, "analytics": 1, "ads": 1},
                "visitors_counted": 5,
                "visitors_decided": 2,
            },
            {
                "policy_version": 2,
                "decisions": {
                    "accept_all": 0,
                    "reject_all": 0,
                    "custom": 1,
                    "withdraw": 0,
                    "accept_terms": 1,
                },
                "granted": {"necessary": 1, "analytics": 1, "ads": 0},
                "visitors_counted": 4,
                "visitors_decided": 1,
            },
        ], phase
        day = answer["days"][0]
        assert (day["visitors"], day["visitors_decided"], day["consent_rate"]) == (9, 3, 33.3)
        assert day["consents"] == 5
        assert answer["totals"]["requests"] == day["requests"] == 1
        assert answer["totals"]["consents"]["accept_terms"] == 1


async def test_answers_conform_to_the_document(
    client: Client, db: asyncpg.Connection, tenant: Tenant
) -> None:
    await ingest(
        db, StatsSite(tenant.site_id), [Hit(utc(2024, 5, 6, 9), "/", referrer="https://a.example/")]
    )
    doc = await document(client)
    r = await get(client, tenant, **{"from": "2024-05-01", "to": "2024-05-31"})
    conforms(doc, response_schema(doc, "/v1/sites/{site_key}/stats", "get"), await r.json())
    svg = doc["paths"]["/v1/sites/{site_key}/stats.svg"]["get"]["responses"]["200"]["content"]
    assert list(svg) == ["image/svg+xml"]


def parse_svg(text: str) -> ET.Element:
    root = ET.fromstring(text)  # well-formed XML, or this raises
    assert root.tag == f"{SVG_NS}svg"
    return root


@pytest.mark.parametrize("metric", ["pageviews", "visitors", "consent_rate"])
async def test_the_chart_is_an_accessible_svg_without_script(
    client: Client, db: asyncpg.Connection, tenant: Tenant, metric: str
) -> None:
    site = StatsSite(tenant.site_id)
    hits = [Hit(utc(2024, 5, d, 10), "/", ip=f"203.0.113.{i}") for d in (2, 3) for i in range(d)]
    await ingest(db, site, hits)
    r = await get(
        client, tenant, "stats.svg", **{"from": "2024-05-01", "to": "2024-05-07", "metric": metric}
    )
    assert r.status == 200
    assert r.headers["Content-Type"] == "image/svg+xml; charset=utf-8"
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "script" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    text = await r.text()
    root = parse_svg(text)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-title chart-desc"
    title, desc = root.find(f"{SVG_NS}title"), root.find(f"{SVG_NS}desc")
    assert title is not None
    assert title.get("id") == "chart-title"
    assert desc is not None
    assert desc.get("id") == "chart-desc"
    assert "2024-05-01 to 2024-05-07" in (title.text or "")
    every = list(root.iter())
    assert not [e for e in every if e.tag.endswith(("script", "foreignObject", "style"))]
    assert not [a for e in every for a in e.attrib if a.lower().startswith("on") or "href" in a]
    bars = [e for e in every if e.tag == f"{SVG_NS}rect" and e.find(f"{SVG_NS}title") is not None]
    labels = [b.find(f"{SVG_NS}title").text for b in bars]
    if metric == "consent_rate":
        # Days without visitors have no rate and no bar; 0% on the two days with visitors.
        assert labels == ["2024-05-02: 0%", "2024-05-03: 0%"]
        assert "2024-05-01: no visitors" in (desc.text or "")
    else:
        unit = "page views" if metric == "pageviews" else "visitors"
        assert labels == [
            f"2024-05-0{d}: {n} {unit}"
            for d, n in zip(range(1, 8), [0, 2, 3, 0, 0, 0, 0], strict=True)
        ]
        assert f"Total: 5 {unit}." in (desc.text or "")
        assert f"Highest: 3 {unit} on 2024-05-03." in (desc.text or "")
        heights = [float(b.get("height", "0")) for b in bars]
        assert heights[2] > heights[1] > heights[0] == 0


async def test_a_chart_of_one_day_and_of_400_days(client: Client, tenant: Tenant) -> None:
    for first, last, bars in (("2024-05-01", "2024-05-01", 1), ("2023-01-01", "2024-02-04", 400)):
        r = await get(client, tenant, "stats.svg", **{"from": first, "to": last})
        root = parse_svg(await r.text())
        drawn = [e for e in root.iter(f"{SVG_NS}rect") if e.find(f"{SVG_NS}title") is not None]
        assert len(drawn) == bars


async def test_chart_query_errors_are_problems(client: Client, tenant: Tenant) -> None:
    r = await get(client, tenant, "stats.svg", metric="<svg onload=alert(1)>")
    assert r.status == 422
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert "metric" in (await r.json())["errors"]


async def test_stats_mode_is_a_site_setting(client: Client, tenant: Tenant) -> None:
    site = await (await client.get(f"/v1/sites/{tenant.site_key}", headers=tenant.auth)).json()
    assert site["stats_mode"] == "always"
    for bad in ("sometimes", "", None, 1, True, ["off"]):
        r = await client.patch(
            f"/v1/sites/{tenant.site_key}", json={"stats_mode": bad}, headers=tenant.auth
        )
        assert r.status == 422, bad
        assert "stats_mode" in (await r.json())["errors"]
    r = await client.patch(
        f"/v1/sites/{tenant.site_key}", json={"stats_mode": "consent"}, headers=tenant.auth
    )
    assert r.status == 200
    assert (await r.json())["stats_mode"] == "consent"
    config = await (await client.get(f"/v1/widget/{tenant.site_key}/config")).json()
    assert config["stats_mode"] == "consent"
    r = await client.post(
        "/v1/sites",
        json={"name": "Off", "allowed_origins": [], "stats_mode": "off"},
        headers=tenant.auth,
    )
    assert r.status == 201
    assert (await r.json())["stats_mode"] == "off"
