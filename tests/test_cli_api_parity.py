"""One rule, whoever asks: each admin operation run through the CLI and through the API stores the same."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import TEST_SECRET, Tenant
from tests.test_cli import cli_env, run
from tests.widget_support import consent_body, post

Client = TestClient[Any, Any]
# What differs between two rows made by the same operation, whoever made it.
VOLATILE = {
    "key_id",
    "lookup",
    "secret_sha256",
    "site_id",
    "site_key",
    "created_at",
    "updated_at",
    "published_at",
    "version",
    "last_used_at",
}


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return cli_env(tmp_path, DATABASE_URL=database_url, WIDGET_SECRET_KEY=TEST_SECRET)


def _stable(row: asyncpg.Record) -> dict[str, Any]:
    return {k: v for k, v in dict(row).items() if k not in VOLATILE}


def _value(pattern: str, text: str) -> str:
    found = re.search(pattern, text)
    assert found is not None, text
    return found.group(1)


# Each case: the CLI arguments and the equivalent API call, then where the result is stored.
CASES: dict[str, dict[str, Any]] = {
    "write key": {
        "cli": ["key", "create", "--merchant", "{merchant}", "--name", "ops", "--scope", "write"],
        "api": ("POST", "/v1/api-keys", {"name": "ops", "scopes": ["write"]}),
        "table": "api_keys",
        "by": ("merchant_id", "name", "ops"),
    },
    "read key": {
        "cli": ["key", "create", "--merchant", "{merchant}", "--name", "ro", "--scope", "read"],
        "api": ("POST", "/v1/api-keys", {"name": "ro", "scopes": ["read"]}),
        "table": "api_keys",
        "by": ("merchant_id", "name", "ro"),
    },
    "site": {
        "cli": [
            "site",
            "create",
            "--merchant",
            "{merchant}",
            "--name",
            "Parity shop",
            "--origin",
            "HTTPS://Parity.Example:443/",
            "--locale",
            "DE-ch",
        ],
        "api": (
            "POST",
            "/v1/sites",
            {
                "name": "Parity shop",
                "allowed_origins": ["HTTPS://Parity.Example:443/"],
                "default_locale": "DE-ch",
            },
        ),
        "table": "sites",
        "by": ("merchant_id", "name", "Parity shop"),
    },
    "policy": {
        "cli": ["policy", "publish", "--site", "{site}", "--file", "{file}", "--title", "Terms"],
        "api": (
            "POST",
            "/v1/sites/{site}/policies",
            {"title": "Terms", "body": "# Terms\n\nWe keep what you send."},
        ),
        "table": "policies",
        "by": ("site_id", "title", "Terms"),
    },
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_cli_and_api_store_the_same(
    case: str,
    tmp_path: Path,
    database_url: str,
    client: Client,
    db: asyncpg.Connection,
    make_tenant: Callable[..., Awaitable[Tenant]],
) -> None:
    spec = CASES[case]
    by_cli, by_api = await make_tenant("Via CLI"), await make_tenant("Via API")
    policy_file = tmp_path / "terms.md"
    policy_file.write_text("# Terms\n\nWe keep what you send.\n", encoding="utf-8")

    def fill(text: str, t: Tenant) -> str:
        return text.format(merchant=t.merchant_id, site=t.site_key, file=policy_file)

    made = run([fill(a, by_cli) for a in spec["cli"]], _env(tmp_path, database_url))
    assert made.returncode == 0, made.stderr
    method, path, body = spec["api"]
    r = await client.request(method, fill(path, by_api), json=body, headers=by_api.auth)
    assert r.status == 201, await r.text()

    column, name_column, name = spec["by"]
    owner = "merchant_id" if column == "merchant_id" else "site_id"

    async def stored(t: Tenant) -> dict[str, Any]:
        owner_id = t.merchant_id if owner == "merchant_id" else t.site_id
        row = await db.fetchrow(
            f"SELECT * FROM {spec['table']} WHERE {owner} = $1 AND {name_column} = $2 "
            "ORDER BY created_at DESC LIMIT 1"
            if spec["table"] != "policies"
            else f"SELECT * FROM policies WHERE site_id = $1 AND {name_column} = $2",
            owner_id,
            name,
        )
        assert row is not None
        found = _stable(row)
        found.pop(owner, None)
        return found

    assert await stored(by_cli) == await stored(by_api)


async def test_a_write_key_made_by_the_cli_lists_as_the_apis_does(
    tmp_path: Path, database_url: str, client: Client, tenant: Tenant
) -> None:
    made = run(
        ["key", "create", "--merchant", str(tenant.merchant_id), "--scope", "write"],
        _env(tmp_path, database_url),
    )
    assert made.returncode == 0, made.stderr
    assert "scopes: read,write" in made.stdout
    r = await client.get("/v1/api-keys", headers=tenant.auth)
    scopes = {tuple(k["scopes"]) for k in (await r.json())["data"]}
    assert scopes == {("read", "write")}


async def test_cli_site_is_validated_like_the_api(
    tmp_path: Path, database_url: str, client: Client, tenant: Tenant, db: asyncpg.Connection
) -> None:
    env = _env(tmp_path, database_url)
    bad = run(
        ["site", "create", "--merchant", str(tenant.merchant_id), "--name", "X", "--locale", "x!"],
        env,
    )
    assert bad.returncode == 2
    assert "--locale" in bad.stderr
    r = await client.post(
        "/v1/sites", json={"name": "X", "default_locale": "x!"}, headers=tenant.auth
    )
    assert r.status == 422
    assert "default_locale" in (await r.json())["errors"]
    assert await db.fetchval("SELECT count(*) FROM sites WHERE name = 'X'") == 0

    # A site the CLI made takes a PATCH of an unrelated field: nothing it stored is invalid.
    good = run(
        ["site", "create", "--merchant", str(tenant.merchant_id), "--name", "Y", "--locale", "fr"],
        env,
    )
    assert good.returncode == 0, good.stderr
    key = _value(r"site_key: (\S+)", good.stdout)
    r = await client.patch(f"/v1/sites/{key}", json={"name": "Y2"}, headers=tenant.auth)
    assert r.status == 200, await r.text()
    assert (await r.json())["default_locale"] == "fr"


@pytest.mark.parametrize(
    ("title", "body", "option", "field"),
    [
        ("T" * 301, "Fine.", "--title", "title"),
        ("Terms", "x" * 200_001, "--file", "body"),
        ("   ", "Fine.", "--title", "title"),
    ],
)
async def test_cli_policy_limits_are_the_apis(
    title: str,
    body: str,
    option: str,
    field: str,
    tmp_path: Path,
    database_url: str,
    client: Client,
    tenant: Tenant,
    db: asyncpg.Connection,
) -> None:
    policy_file = tmp_path / "p.md"
    policy_file.write_text(body, encoding="utf-8")
    cli = run(
        [
            "policy",
            "publish",
            "--site",
            tenant.site_key,
            "--file",
            str(policy_file),
            "--title",
            title,
        ],
        _env(tmp_path, database_url),
    )
    assert cli.returncode == 2
    assert option in cli.stderr
    r = await client.post(
        f"/v1/sites/{tenant.site_key}/policies",
        json={"title": title, "body": body},
        headers=tenant.auth,
    )
    assert r.status == 422
    assert field in (await r.json())["errors"]
    assert (
        await db.fetchval("SELECT max(version) FROM policies WHERE site_id = $1", tenant.site_id)
        == 1
    )


async def test_a_megabyte_file_is_refused_without_being_stored(
    tmp_path: Path, database_url: str, tenant: Tenant, db: asyncpg.Connection
) -> None:
    big = tmp_path / "big.md"
    big.write_bytes(b"# Terms\n\n" + b"a" * (1024 * 1024))
    cli = run(
        ["policy", "publish", "--site", tenant.site_key, "--file", str(big)],
        _env(tmp_path, database_url),
    )
    assert cli.returncode == 2
    assert "--file" in cli.stderr
    assert (
        await db.fetchval("SELECT max(version) FROM policies WHERE site_id = $1", tenant.site_id)
        == 1
    )


async def test_cli_and_api_agree_on_a_tampered_record(
    tmp_path: Path, database_url: str, client: Client, tenant: Tenant, db: asyncpg.Connection
) -> None:
    r = await post(client, tenant.site_key, "consents", consent_body(tenant))
    record_id = uuid.UUID((await r.json())["id"])
    env = _env(tmp_path, database_url)
    assert run(["consent", "verify", str(record_id)], env).returncode == 0
    await db.execute("SET session_replication_role = replica")
    try:
        await db.execute("UPDATE consent_records SET gpc = NOT gpc WHERE record_id = $1", record_id)
    finally:
        await db.execute("SET session_replication_role = DEFAULT")
    assert run(["consent", "verify", str(record_id)], env).returncode == 3
    r = await client.get(f"/v1/sites/{tenant.site_key}/consents", headers=tenant.auth)
    [shown] = (await r.json())["data"]
    assert shown["verified"] is False
