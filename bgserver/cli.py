"""``bgbilling``: the administrator's command line (set-up, migrations, demo data)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timezone

from bgserver.billing import operators
from bgserver.config import ConfigError, Settings, load_settings
from bgserver.storage import migrate
from bgserver.storage.database import Database


def _database(settings: Settings) -> Database:
    return Database(settings.database)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    database = _database(settings)
    migrate.upgrade(database.engine)
    print(f"database schema at {migrate.current_revision(database.engine)}")
    return 0


def cmd_init(settings: Settings, args: argparse.Namespace) -> int:
    """Migrate, then create the first operator ``admin`` unless it exists."""
    database = _database(settings)
    migrate.upgrade(database.engine)
    print(f"database schema at {migrate.current_revision(database.engine)}")
    if database.run_sync("find_operator", operators.find_operator_id, "admin") is not None:
        print("operator admin exists already (change its password with bgbilling user passwd)")
        return 0
    password = os.environ.get("BG_ADMIN_PASSWORD") or operators.generate_password()
    database.run_sync("create_operator", operators.create_operator, "admin", "Administrator",
                      password, _now())
    if os.environ.get("BG_ADMIN_PASSWORD"):
        print("operator admin created with the password from BG_ADMIN_PASSWORD")
    else:
        print(f"operator admin created; password (shown once): {password}")
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    """Demo data for a first look; safe to run again."""
    database = _database(settings)
    if migrate.current_revision(database.engine) != migrate.head_revision():
        print("run `bgbilling init` first", file=sys.stderr)
        return 2
    if database.run_sync("find_operator", operators.find_operator_id, "operator") is None:
        password = operators.generate_password()
        database.run_sync("create_operator", operators.create_operator, "operator",
                          "Demo Operator", password, _now())
        print(f"demo operator 'operator' created; password (shown once): {password}")
    else:
        print("demo data present already")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bgbilling", description=__doc__)
    p.add_argument("-c", "--config", help="the TOML file (default: $BG_CONFIG, ./bgbilling.toml)")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="migrate the database and create the operator admin") \
        .set_defaults(fn=cmd_init)
    sub.add_parser("migrate", help="bring the database schema up to date") \
        .set_defaults(fn=cmd_migrate)
    sub.add_parser("demo", help="add demo data").set_defaults(fn=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"bgbilling: {exc}", file=sys.stderr)
        return 2
    return args.fn(settings, args)


if __name__ == "__main__":
    sys.exit(main())
