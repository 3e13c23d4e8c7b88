"""Alembic, driven from code: `portal db upgrade` and the test fixtures both come through here, so the
migrations are the only way a schema is ever created."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from portal.config import Settings
from portal.db.engine import ensure_sqlite_directory

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    config.attributes["db_roles"] = (settings.db_app_role, settings.db_system_role)
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    ensure_sqlite_directory(settings.database_url)
    command.upgrade(alembic_config(settings), revision)


def downgrade(settings: Settings, revision: str) -> None:
    command.downgrade(alembic_config(settings), revision)


def revision(settings: Settings, message: str, autogenerate: bool = True) -> None:
    command.revision(alembic_config(settings), message=message, autogenerate=autogenerate)


def current_heads(settings: Settings) -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config(settings)).get_heads())
