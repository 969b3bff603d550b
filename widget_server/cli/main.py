"""The `widget-server` command line: parse arguments, run one verb, print what it gives."""

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

from widget_server import __version__
from widget_server.db.embedded import database_url
from widget_server.db.migrations import MigrationError
from widget_server.domain.errors import DomainError, Invalid
from widget_server.runtime import logs
from widget_server.settings import Settings, SettingsError

EXIT_FAILED = 1
EXIT_USAGE = 2
# The option a service's field comes from, so that a refusal names what the operator typed.
OPTION_OF_FIELD = {
    "allowed_origins": "--origin",
    "default_locale": "--locale",
    "name": "--name",
    "scopes": "--scope",
    "title": "--title",
    "body": "--file",
    "language": "--language",
}
# Verbs that sign or check something with the secret key; the others may run without one.
NEEDS_SECRET = frozenset({"serve", "worker", "consent", "demo"})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="widget-server",
        description="Consent-and-contact widget backend. Configuration comes from WIDGET_* "
        "environment variables and DATABASE_URL; without DATABASE_URL an embedded Postgres "
        "under WIDGET_DATA_DIR is used.",
    )
    parser.add_argument("--version", action="version", version=f"widget-server {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    verbs.add_parser("serve", help="migrate, then serve both APIs and run the background jobs")
    verbs.add_parser("worker", help="run the background jobs only, without serving HTTP")
    verbs.add_parser("migrate", help="apply pending database migrations and exit")
    demo = verbs.add_parser(
        "demo",
        help="embedded Postgres, demo merchant, key and site, the API and a demo host page",
    )
    demo.add_argument("--host-page-port", type=int, default=None, help="default: WIDGET_PORT + 1")

    merchant = _group(verbs, "merchant", "merchant administration")
    mc = merchant.add_parser("create", help="create a merchant; prints its id and first API key")
    mc.add_argument("--name", required=True)

    key = _group(verbs, "key", "API keys")
    kc = key.add_parser("create", help="create an API key for a merchant (shown once)")
    kc.add_argument("--merchant", required=True, type=uuid.UUID, help="merchant id")
    kc.add_argument("--name", default=None)
    kc.add_argument(
        "--scope", action="append", help="read or write (write can also read); default both"
    )

    site = _group(verbs, "site", "sites")
    sc = site.add_parser("create", help="create a site; prints its key and the snippet")
    sc.add_argument("--merchant", required=True, type=uuid.UUID, help="merchant id")
    sc.add_argument("--name", required=True)
    sc.add_argument("--origin", action="append", default=[], help="allowed origin, repeatable")
    sc.add_argument("--locale", default=None, help="default language (BCP 47); default en")

    policy = _group(verbs, "policy", "policy texts")
    pp = policy.add_parser(
        "publish", help="publish a file as the site's new current policy version"
    )
    pp.add_argument("--site", required=True, help="site key")
    pp.add_argument("--file", required=True, type=Path, help="plain text or Markdown")
    pp.add_argument("--title", default=None, help="default: the file's first heading")
    pp.add_argument("--language", default=None, help="default: the site's default language")

    consent = _group(verbs, "consent", "the consent log")
    cv = consent.add_parser("verify", help="check one consent record's receipt")
    cv.add_argument("record_id", type=uuid.UUID)

    verbs.add_parser("purge", help="delete what is past each site's retention, and old salts")
    return parser


def _group(verbs: Any, name: str, text: str) -> Any:
    return verbs.add_parser(name, help=text).add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )


def _terminate(signum: int, frame: FrameType | None) -> None:
    # SIGTERM would otherwise end Python without running `finally`, leaving Postgres behind.
    raise SystemExit(128 + signum)


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    from widget_server.web.serve import run

    return run(coro)


def _refusal(exc: DomainError) -> tuple[str, int]:
    """A service's refusal as one line per problem, naming the option it came from."""
    if not isinstance(exc, Invalid):
        return exc.detail, EXIT_FAILED
    lines = []
    for field, messages in exc.errors.items():
        option = OPTION_OF_FIELD.get(field.split(".")[0], field)
        lines.append(f"{option}: {' '.join(messages)}")
    return "\n".join(lines) or exc.detail, EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    env = dict(os.environ)
    data_dir = Path(env.get("WIDGET_DATA_DIR", "").strip() or ".widget-data")
    try:
        settings = Settings.from_env(
            env,
            secret_file=data_dir / "secret_key" if args.verb == "demo" else None,
            require_secret=args.verb in NEEDS_SECRET,
        )
    except SettingsError as exc:
        print(f"widget-server: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    logs.configure(settings.log_level)
    signal.signal(signal.SIGTERM, _terminate)
    configured = settings.database_url.reveal() if settings.database_url else None
    from widget_server.cli import commands

    try:
        with database_url(configured, settings.data_dir) as url:
            return int(_run(commands.dispatch(args, settings, url)))
    except DomainError as exc:
        text, code = _refusal(exc)
        for line in text.splitlines():
            print(f"widget-server: {line}", file=sys.stderr)
        return code
    except MigrationError as exc:
        print(f"widget-server: migration error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        print(f"widget-server: {exc}", file=sys.stderr)
        return EXIT_FAILED
