"""services.policies.publish_policy_file: titles from headings, bodies kept, errors the CLI can print."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from tests.conftest import Tenant
from widget_server.domain.errors import Invalid, NotFound
from widget_server.domain.policytext import policy_sha256, split_title
from widget_server.services.policies import publish_policy_file


@pytest.mark.parametrize(
    ("text", "title", "body"),
    [
        ("# Our terms\n\nWe keep little.\n", "Our terms", "We keep little."),
        ("\n\n## Terms ##\nBody", "Terms", "Body"),
        ("Privacy\n=======\n\nBody text", "Privacy", "Body text"),
        ("No heading here.\n\n# Later heading\n", None, "No heading here.\n\n# Later heading"),
        ("#hashtag is not a heading", None, "#hashtag is not a heading"),
    ],
)
def test_split_title(text: str, title: str | None, body: str) -> None:
    assert split_title(text) == (title, body)


async def test_publish_from_a_file(db: asyncpg.Connection, tenant: Tenant, tmp_path: Path) -> None:
    path = tmp_path / "privacy-notice.md"
    path.write_text("# Privacy notice\n\nWe keep *what you send*.\n", encoding="utf-8")
    row = await publish_policy_file(db, tenant.site_key, path)
    assert (row["version"], row["title"], row["body"]) == (
        2,
        "Privacy notice",
        "We keep *what you send*.",
    )
    assert row["language"] == "en"
    assert row["sha256"] == policy_sha256("Privacy notice", "We keep *what you send*.")

    plain = tmp_path / "terms.txt"
    plain.write_text("Plain text terms.", encoding="utf-8")
    row = await publish_policy_file(db, tenant.site_key, plain, language="de")
    assert (row["version"], row["title"], row["language"]) == (3, "terms", "de")

    row = await publish_policy_file(db, tenant.site_key, path, title="Given title")
    assert row["title"] == "Given title"
    assert row["body"].startswith("# Privacy notice")


async def test_publish_errors(db: asyncpg.Connection, tenant: Tenant, tmp_path: Path) -> None:
    empty = tmp_path / "empty.md"
    empty.write_text("# Only a title\n\n", encoding="utf-8")
    with pytest.raises(Invalid) as blank:
        await publish_policy_file(db, tenant.site_key, empty)
    assert list(blank.value.errors) == ["body"]
    latin1 = tmp_path / "latin1.md"
    latin1.write_bytes("Datenschutzerklärung".encode("latin-1"))
    with pytest.raises(Invalid, match="invalid fields") as not_utf8:
        await publish_policy_file(db, tenant.site_key, latin1)
    assert "UTF-8" in not_utf8.value.errors["body"][0]
    with pytest.raises(OSError):
        await publish_policy_file(db, tenant.site_key, tmp_path / "missing.md")
    with pytest.raises(NotFound):
        await publish_policy_file(db, "st_unknown", empty)
    assert (
        await db.fetchval("SELECT max(version) FROM policies WHERE site_id = $1", tenant.site_id)
        == 1
    )
