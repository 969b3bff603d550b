"""The `widget-server` command line: parse arguments and call into the package."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import uuid
from collections.abc import Coroutine, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from widget_server import __version__, logs
from widget_server.db import MigrationError, database_url
from widget_server.origins import normalize_origin
from widget_server.settings import Settings, SettingsError

EXIT_CONFIG = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="widget-server",
        description="Consent-and-contact widget backend. Configuration comes from WIDGET_* "
        "environment variables and DATABASE_URL; without DATABASE_URL an embedded Postgres "
        "under WIDGET_DATA_DIR is used.",
    )
    parser.add_argument("--version", action="version", version=f"widget-server {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    verbs.add_parser("serve", help="migrate, then serve the widget and merchant APIs")
    verbs.add_parser("migrate", help="apply pending database migrations and exit")
    demo = verbs.add_parser(
        "demo",
        help="embedded Postgres, demo merchant, key and site, the API and a demo host page",
    )
    demo.add_argument("--host-page-port", type=int, default=None, help="default: WIDGET_PORT + 1")

    merchant = verbs.add_parser("merchant", help="merchant administration").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    mc = merchant.add_parser("create", help="create a merchant; prints its id and first API key")
    mc.add_argument("--name", required=True)

    key = verbs.add_parser("key", help="API keys").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    kc = key.add_parser("create", help="create an API key for a merchant (shown once)")
    kc.add_argument("--merchant", required=True, type=uuid.UUID, help="merchant id")
    kc.add_argument("--name", default="")
    kc.add_argument(
        "--scope", choices=("read", "write"), action="append", help="repeatable; default both"
    )

    site = verbs.add_parser("site", help="sites").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    sc = site.add_parser("create", help="create a site; prints its key and the snippet")
    sc.add_argument("--merchant", required=True, type=uuid.UUID, help="merchant id")
    sc.add_argument("--name", required=True)
    sc.add_argument("--origin", action="append", default=[], help="allowed origin, repeatable")
    sc.add_argument("--locale", default="en", help="default language (BCP 47)")

    policy = verbs.add_parser("policy", help="policy texts").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    pp = policy.add_parser(
        "publish", help="publish a file as the site's new current policy version"
    )
    pp.add_argument("--site", required=True, help="site key")
    pp.add_argument("--file", required=True, type=Path, help="plain text or Markdown")
    pp.add_argument("--title", default=None, help="default: the file's first heading")
    pp.add_argument("--language", default=None, help="default: the site's default language")

    consent = verbs.add_parser("consent", help="the consent log").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    cv = consent.add_parser("verify", help="check one consent record's receipt")
    cv.add_argument("record_id", type=uuid.UUID)

    verbs.add_parser("purge", help="delete what is past each site's retention, and old salts")
    return parser


def _terminate(signum: int, frame: FrameType | None) -> None:
    # SIGTERM would otherwise end Python without running `finally`, leaving Postgres behind.
    raise SystemExit(128 + signum)


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    from widget_server.runner import run

    return run(coro)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    env = dict(os.environ)
    data_dir = Path(env.get("WIDGET_DATA_DIR", "").strip() or ".widget-data")
    needs_secret = args.verb in ("serve", "consent")
    try:
        settings = Settings.from_env(
            env,
            secret_file=data_dir / "secret_key" if args.verb == "demo" else None,
            require_secret=needs_secret or args.verb == "demo",
        )
        origins = [normalize_origin(o) for o in getattr(args, "origin", None) or []]
    except SettingsError as exc:
        print(f"widget-server: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except ValueError as exc:
        print(f"widget-server: --origin: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    logs.configure(settings.log_level)
    signal.signal(signal.SIGTERM, _terminate)
    configured = settings.database_url.reveal() if settings.database_url else None
    try:
        with database_url(configured, settings.data_dir) as url:
            return _dispatch(args, settings, url, origins)
    except MigrationError as exc:
        print(f"widget-server: migration error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        print(f"widget-server: {exc}", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace, settings: Settings, url: str, origins: list[str]) -> int:
    from widget_server import commands

    if args.verb == "serve":
        _run(commands.cmd_serve(settings, url))
    elif args.verb == "migrate":
        applied = _run(commands.cmd_migrate(url))
        print(
            f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else "")
        )
    elif args.verb == "demo":
        from widget_server.demo import run_demo

        _run(run_demo(settings, url, args.host_page_port or settings.port + 1))
    elif args.verb == "merchant":
        _run(commands.cmd_merchant_create(url, args.name))
    elif args.verb == "key":
        return int(
            _run(
                commands.cmd_key_create(
                    url, args.merchant, args.name, args.scope or ("read", "write")
                )
            )
        )
    elif args.verb == "site":
        return int(
            _run(
                commands.cmd_site_create(
                    url, settings.public_url, args.merchant, args.name, origins, args.locale
                )
            )
        )
    elif args.verb == "policy":
        return int(
            _run(commands.cmd_policy_publish(url, args.site, args.file, args.title, args.language))
        )
    elif args.verb == "consent":
        return int(
            _run(commands.cmd_consent_verify(url, settings.secret_key.reveal(), args.record_id))
        )
    elif args.verb == "purge":
        _run(commands.cmd_purge(url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
