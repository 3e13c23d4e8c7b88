"""Row-level security, the database's own guarantee of tenancy, for migrations to apply.

Every tenant-owned table gets ENABLE + FORCE row-level security (FORCE so even the table owner is
bound) and two policies scoped by role, so neither needs an OR:
- the application role sees and writes only rows whose tenant_id equals app.tenant_id (unset: none);
- the system role, used only inside the explicit system context, sees every tenant.
The app role has no BYPASSRLS. On SQLite these helpers do nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import context, op


def _roles() -> tuple[str, str]:
    return tuple(context.config.attributes.get("db_roles", ("portal_app", "portal_system")))  # type: ignore[return-value]


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def create_roles() -> None:
    if not _postgres():
        return
    app_role, system_role = _roles()
    for role in (app_role, system_role):
        op.execute(
            f"""DO $$ BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                    CREATE ROLE {role} NOLOGIN NOBYPASSRLS;
                END IF;
                BEGIN
                    EXECUTE 'GRANT {role} TO ' || quote_ident(current_user);
                EXCEPTION WHEN OTHERS THEN NULL;  -- already a member, or granted by the operator
                END;
            END $$"""
        )
        op.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        op.execute(
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}"
        )


def grant_table(table: str) -> None:
    if _postgres():
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {', '.join(_roles())}")


def grant_sequence(sequence: str) -> None:
    """Let both roles draw numbers from a sequence (numbers are not tenant data: no policy applies)."""
    if _postgres():
        op.execute(f"GRANT USAGE, SELECT ON SEQUENCE {sequence} TO {', '.join(_roles())}")


def tenant_table(table: str) -> None:
    """Grant the roles and switch on row-level security for a tenant-owned table."""
    if not _postgres():
        return
    app_role, system_role = _roles()
    grant_table(table)
    current = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} TO {app_role} "
        f"USING (tenant_id = {current}) WITH CHECK (tenant_id = {current})"
    )
    op.execute(f"CREATE POLICY system_context ON {table} TO {system_role} USING (true) WITH CHECK (true)")


@contextmanager
def as_system_role() -> Iterator[None]:
    """For a migration that reads or writes rows of every tenant: FORCE binds the tables' owner too, and the
    policies name only the two roles, so an owner that is not a superuser would see no rows at all."""
    if not _postgres():
        yield
        return
    op.execute(f"SET ROLE {_roles()[1]}")
    yield
    op.execute("RESET ROLE")
