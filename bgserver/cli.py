"""``bgbilling``: the administrator's command line — set-up, migrations, demo data,
operators and API keys. Changes go through the same services as the API, audited as the
system actor ``cli``."""

from __future__ import annotations

import argparse
import getpass
import os
import socket
import sys
from datetime import date
from typing import Any, Awaitable, Callable

from pydantic import ValidationError
from twisted.internet import task
from twisted.internet.defer import ensureDeferred

from bgserver.billing.access import system_caller
from bgserver.billing.errors import BillingError
from bgserver.billing.passwords import generate_password
from bgserver.billing.users import UserService
from bgserver.clock import BillingClock
from bgserver.config import ConfigError, Settings, load_settings
from bgserver.storage import access as access_store
from bgserver.storage import migrate
from bgserver.storage.database import Database
from bgshared.api.models import ApiKeyCreate, UserCreate, UserPatch

CLI = system_caller("cli")


def read_password(prompt: str) -> str:
    """From the terminal without echo, or one line of standard input in scripts."""
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("again: ") != first:
            raise BillingError("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


def run_with_services(settings: Settings,
                      work: Callable[[Database, Any, UserService], Awaitable[int]]) -> int:
    """Start the database pool and a reactor just long enough for ``work``."""
    result: list[int] = []

    async def main(reactor):
        database = Database(settings.database, reactor)
        if migrate.current_revision(database.engine) != migrate.head_revision():
            print("the database is not initialised: run `bgbilling init` first",
                  file=sys.stderr)
            result.append(2)
            return
        database.startService()
        clock = BillingClock(reactor, settings.billing.zone)
        try:
            result.append(await work(database, clock, UserService(database, clock)))
        except BillingError as exc:
            details = f" {exc.details}" if exc.details else ""
            print(f"bgbilling: {exc.message}{details}", file=sys.stderr)
            result.append(1)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                 for e in exc.errors())
            print(f"bgbilling: {problems}", file=sys.stderr)
            result.append(2)
        finally:
            await database.stopService()

    try:
        task.react(lambda reactor: ensureDeferred(main(reactor)))
    except SystemExit as exit_:
        if exit_.code not in (0, None):
            raise
    return result[0] if result else 1


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    database = Database(settings.database)
    migrate.upgrade(database.engine)
    print(f"database schema at {migrate.current_revision(database.engine)}")
    return 0


def cmd_init(settings: Settings, args: argparse.Namespace) -> int:
    """Migrate, then create the kernel's scheduler tasks and the first operator ``admin``
    (role admin), each unless it exists."""
    cmd_migrate(settings, args)

    async def work(database, clock, users) -> int:
        from bgserver.scheduler.control import add_default_tasks  # noqa: PLC0415
        from bgserver.scheduler.tasks import TaskTypes, kernel_task_types  # noqa: PLC0415
        tasks = await database.run("add_default_tasks", add_default_tasks,
                                   TaskTypes(kernel_task_types()), CLI, clock.now())
        if tasks:
            print(f"scheduler tasks created: {len(tasks)}")
        if await database.run("find_admin", access_store.operator_id_by_login, "admin"):
            print("operator admin exists already "
                  "(change its password with `bgbilling user passwd admin`)")
            return 0
        given = os.environ.get("BG_ADMIN_PASSWORD")
        password = given or generate_password()
        await users.create_user(CLI, UserCreate(login="admin", name="Administrator",
                                                password=password, roles=["admin"]))
        if given:
            print("operator admin created with the password from BG_ADMIN_PASSWORD")
        else:
            print(f"operator admin created; password (shown once): {password}")
        return 0

    return run_with_services(settings, work)


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    """Demo data for a first look; safe to run again."""
    from bgserver import demo  # noqa: PLC0415 - only this command needs it
    from bgserver.services import module_registry  # noqa: PLC0415
    return run_with_services(settings, lambda database, clock, users: demo.populate(
        database, clock, users, settings, module_registry()))


async def _operator_id(database, login: str) -> int:
    operator_id = await database.run("find_operator", access_store.operator_id_by_login, login)
    if operator_id is None:
        raise BillingError(f"no operator {login}")
    return operator_id


def cmd_user_add(settings: Settings, args: argparse.Namespace) -> int:
    async def work(database, clock, users) -> int:
        password = read_password(f"password for {args.login}: ")
        user = await users.create_user(CLI, UserCreate(
            login=args.login, name=args.name, password=password, roles=args.role,
            groups=args.group))
        print(f"operator {user['login']} created (id {user['id']})")
        return 0
    return run_with_services(settings, work)


def cmd_user_passwd(settings: Settings, args: argparse.Namespace) -> int:
    async def work(database, clock, users) -> int:
        operator_id = await _operator_id(database, args.login)
        password = read_password(f"new password for {args.login}: ")
        await users.update_user(CLI, operator_id, UserPatch(password=password))
        print(f"password of {args.login} changed; its sessions are closed")
        return 0
    return run_with_services(settings, work)


def cmd_user_disable(settings: Settings, args: argparse.Namespace) -> int:
    async def work(database, clock, users) -> int:
        operator_id = await _operator_id(database, args.login)
        await users.update_user(CLI, operator_id, UserPatch(status="disabled"))
        print(f"operator {args.login} disabled; its sessions are closed")
        return 0
    return run_with_services(settings, work)


def cmd_apikey_create(settings: Settings, args: argparse.Namespace) -> int:
    async def work(database, clock, users) -> int:
        created = await users.create_api_key(CLI, ApiKeyCreate(title=args.title,
                                                               roles=args.role))
        print(f"API key {created['id']} created; the key (shown once): {created['key']}")
        return 0
    return run_with_services(settings, work)


def cmd_apikey_revoke(settings: Settings, args: argparse.Namespace) -> int:
    async def work(database, clock, users) -> int:
        await users.revoke_api_key(CLI, args.id)
        print(f"API key {args.id} revoked")
        return 0
    return run_with_services(settings, work)


def _loader(settings: Settings, database, clock):
    from bgserver.loader.core import Loader  # noqa: PLC0415 - only these commands need it
    from bgserver.services import module_registry  # noqa: PLC0415
    return Loader(database, clock, module_registry(),
                  f"cli@{socket.gethostname()}:{os.getpid()}", settings.loader.batch_lines,
                  settings.loader.lease_seconds)


def progress_bar(out=sys.stderr, width: int = 30):
    """``progress(done_bytes, total_bytes, counts)`` drawing one line that redraws."""
    def progress(done: int, total: int, counts: dict) -> None:
        share = done / total if total else 1.0
        filled = int(share * width)
        out.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {share:6.1%}  "
                  f"stored {counts['stored']}  duplicates {counts['duplicates']}  "
                  f"quarantined {counts['quarantined']}")
        out.flush()
    return progress


def cmd_load(settings: Settings, args: argparse.Namespace) -> int:
    """One file by hand, into a source's module instance; the file stays where it is."""
    from pathlib import Path  # noqa: PLC0415
    from bgserver.storage import loader as loader_store  # noqa: PLC0415

    async def work(database, clock, users) -> int:
        source = await database.run("find_source", loader_store.source_by_name, args.source)
        if source is None:
            raise BillingError(f"no loader source {args.source}")
        path = Path(args.file)
        if not path.is_file():
            raise BillingError(f"no file {path}")
        row = await _loader(settings, database, clock).load(
            source, path, None if args.quiet else progress_bar())
        if not args.quiet:
            sys.stderr.write("\n")
        if row is None:
            print(f"{path}: another loader is loading this file now", file=sys.stderr)
            return 1
        print(f"{path}: file {row['id']} ({row['name']}), {row['lines']} lines: "
              f"{row['stored']} stored, {row['duplicates']} duplicates, "
              f"{row['quarantined']} quarantined")
        return 0
    return run_with_services(settings, work)


def cmd_reprocess(settings: Settings, args: argparse.Namespace) -> int:
    async def work(database, clock, users) -> int:
        try:
            counts = await _loader(settings, database, clock).reprocess(args.source)
        except LookupError as exc:
            raise BillingError(str(exc)) from None
        print(f"quarantine: {counts['stored']} stored, {counts['duplicates']} duplicates, "
              f"{counts['quarantined']} still quarantined")
        return 0
    return run_with_services(settings, work)


def cmd_rerate(settings: Settings, args: argparse.Namespace) -> int:
    async def work(database, clock, users) -> int:
        if args.to < args.from_:
            raise BillingError("--to is before --from")
        changed = await _loader(settings, database, clock).rerate(args.from_, args.to,
                                                                   args.contract)
        total = sum(changed.values())
        print(f"re-rated {args.from_} to {args.to}: {total} records priced differently")
        return 0
    return run_with_services(settings, work)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bgbilling", description=__doc__)
    p.add_argument("-c", "--config", help="the TOML file (default: $BG_CONFIG, ./bgbilling.toml)")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="migrate the database and create the operator admin") \
        .set_defaults(fn=cmd_init)
    sub.add_parser("migrate", help="bring the database schema up to date") \
        .set_defaults(fn=cmd_migrate)
    sub.add_parser("demo", help="add demo data").set_defaults(fn=cmd_demo)

    user = sub.add_parser("user", help="operators").add_subparsers(dest="action", required=True)
    add = user.add_parser("add", help="create an operator (password from the terminal/stdin)")
    add.add_argument("login")
    add.add_argument("--name", default="")
    add.add_argument("--role", action="append", default=[], help="a role name; repeatable")
    add.add_argument("--group", action="append", default=[], type=int,
                     help="a contract group id the operator is limited to; repeatable")
    add.set_defaults(fn=cmd_user_add)
    passwd = user.add_parser("passwd", help="set an operator's password")
    passwd.add_argument("login")
    passwd.set_defaults(fn=cmd_user_passwd)
    disable = user.add_parser("disable", help="disable an operator and close its sessions")
    disable.add_argument("login")
    disable.set_defaults(fn=cmd_user_disable)

    apikey = sub.add_parser("apikey", help="API keys for outside software") \
        .add_subparsers(dest="action", required=True)
    create = apikey.add_parser("create", help="create a key (printed once)")
    create.add_argument("title")
    create.add_argument("--role", action="append", default=[], help="a role name; repeatable")
    create.set_defaults(fn=cmd_apikey_create)
    revoke = apikey.add_parser("revoke", help="revoke a key")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(fn=cmd_apikey_revoke)

    load = sub.add_parser("load", help="load one usage file into a loader source")
    load.add_argument("file")
    load.add_argument("--source", required=True, help="the loader source's name")
    load.add_argument("--quiet", action="store_true", help="no progress bar")
    load.set_defaults(fn=cmd_load)
    reprocess = sub.add_parser("reprocess", help="try the quarantined records again")
    reprocess.add_argument("--source", help="only this source's")
    reprocess.set_defaults(fn=cmd_reprocess)
    rerate = sub.add_parser("rerate", help="price the usage of these days again")
    rerate.add_argument("--from", dest="from_", required=True, type=date.fromisoformat)
    rerate.add_argument("--to", required=True, type=date.fromisoformat)
    rerate.add_argument("--contract", type=int, help="only this contract's")
    rerate.set_defaults(fn=cmd_rerate)
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
