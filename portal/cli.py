"""The `portal` command: serve, db, tenant, demo."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import secrets
import sys
from collections.abc import Sequence

from portal.config import Settings
from portal.errors import ConfigurationError, DomainError


def load_settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigurationError as exc:
        sys.exit(f"error: {exc}")


async def with_services(settings: Settings, work):  # type: ignore[no-untyped-def]
    from portal.components import import_models, load_components
    from portal.i18n import Catalogs
    from portal.services import Services

    components = load_components()
    import_models(components)
    catalogs = Catalogs(
        [c.catalog_dir for c in components if c.catalog_dir], settings.languages, settings.default_language
    )
    services = Services.build(settings, catalogs, components)
    try:
        return await work(services)
    finally:
        await services.db.dispose()


def _print_logins(settings: Settings, logins: list[dict[str, str]]) -> None:
    print("\nDemo sign-ins (the password for all: " + (logins[0]["password"] if logins else "-") + ")")
    for login in logins:
        where = f"/p/{login['workspace']}/login" if login["role"] == "partner" else "/login"
        print(f"  {login['role']:<8} {login['workspace']:<16} {login['email']:<38} {login['tenant']}  ({where})")
    print(f"\nManufacturer console: {settings.base_url}/login")
    print(f"Partner portal:       {settings.base_url}/p/<workspace>/login\n")


def cmd_db(args: argparse.Namespace) -> None:
    from portal.db import migrate

    settings = load_settings()
    if args.action == "upgrade":
        migrate.upgrade(settings, args.revision or "head")
        print(f"database at {args.revision or 'head'}: {settings.database_url.split('@')[-1]}")
    elif args.action == "downgrade":
        if not args.revision:
            sys.exit("error: downgrade needs a revision (e.g. base)")
        migrate.downgrade(settings, args.revision)
    elif args.action == "revision":
        migrate.revision(settings, args.message or "change")


def cmd_tenant_create(args: argparse.Namespace) -> None:
    from portal.db import migrate
    from portal.db.context import PUBLIC
    from portal.identity.accounts import SignUp

    settings = load_settings()
    migrate.upgrade(settings)
    password = args.password or os.environ.get("PORTAL_ADMIN_PASSWORD")
    generated = False
    if not password:
        if sys.stdin.isatty():
            password = getpass.getpass("Password for the first admin: ")
        else:
            password, generated = secrets.token_urlsafe(12), True

    async def work(services):  # type: ignore[no-untyped-def]
        async with services.db.session(PUBLIC) as session:
            return await services.accounts.sign_up(
                session, SignUp(args.name, args.slug, args.admin_name, args.admin_email, password, args.locale), "cli"
            )

    try:
        tenant, admin = asyncio.run(with_services(settings, work))
    except DomainError as exc:
        errors = getattr(exc, "errors", [])
        sys.exit("error: " + ("; ".join(f"{e.field} {e.text}" for e in errors) or exc.text))
    print(f"created tenant {tenant.name} ({tenant.slug}), admin {admin.email}")
    if generated:
        print(f"generated password: {password}")


def cmd_demo(args: argparse.Namespace) -> None:
    from portal.db import migrate
    from portal.demo import load_demo

    settings = load_settings()
    migrate.upgrade(settings)
    logins = asyncio.run(with_services(settings, load_demo))
    _print_logins(settings, logins)


def cmd_serve(args: argparse.Namespace) -> None:
    from portal.db import migrate
    from portal.http.server import default_workers, serve

    if args.host:
        os.environ["PORTAL_HOST"] = args.host
    if args.port:
        os.environ["PORTAL_PORT"] = str(args.port)
    settings = load_settings()
    if not args.no_migrate:
        migrate.upgrade(settings)
    if args.demo:
        from portal.demo import load_demo

        _print_logins(settings, asyncio.run(with_services(settings, load_demo)))
    if args.workers is not None and args.workers < 1:
        sys.exit("error: --workers must be at least 1")
    workers = 1 if args.reload else (args.workers or default_workers())
    plural = "" if workers == 1 else "es"
    print(
        f"Serving on http://{settings.host}:{settings.port}  (API docs: /api/docs/, {workers} worker process{plural})"
    )
    serve(settings.host, settings.port, workers=workers, reload=args.reload, access_log=args.access_log)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portal", description="Connected-CRM partner portal")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the web server (migrates the database first)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--demo", action="store_true", help="load the demo data before serving")
    serve.add_argument("--reload", action="store_true", help="restart on code changes (development; one process)")
    serve.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    serve.add_argument("--access-log", action="store_true", help="log every request as a JSON line on stderr")
    serve.add_argument("--no-migrate", action="store_true", help="do not apply migrations on start")
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade", "downgrade", "revision"])
    db.add_argument("revision", nargs="?")
    db.add_argument("-m", "--message")
    db.set_defaults(func=cmd_db)

    tenant = sub.add_parser("tenant", help="tenants")
    tenant_sub = tenant.add_subparsers(dest="tenant_command", required=True)
    create = tenant_sub.add_parser("create", help="create a tenant and its first admin")
    create.add_argument("--name", required=True)
    create.add_argument("--slug", required=True)
    create.add_argument("--admin-email", required=True)
    create.add_argument("--admin-name", required=True)
    create.add_argument("--password", help="else PORTAL_ADMIN_PASSWORD, a prompt, or a generated one")
    create.add_argument("--locale", default="en", choices=["en", "zh_CN"])
    create.set_defaults(func=cmd_tenant_create)

    demo = sub.add_parser("demo", help="load demo data (two manufacturers and their staff)")
    demo.set_defaults(func=cmd_demo)

    from portal.components import load_components

    for component in load_components():
        if component.cli is not None:
            component.cli(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
