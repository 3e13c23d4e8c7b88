from __future__ import annotations

import pytest

from portal.config import DEVELOPMENT_SECRET, Settings, normalise_database_url
from portal.errors import ConfigurationError


def test_embedded_defaults_need_no_configuration() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite+aiosqlite:///var/portal.db"
    assert settings.secret_key == DEVELOPMENT_SECRET
    assert not settings.secure_cookies


def test_values_come_from_portal_environment_variables() -> None:
    settings = Settings.from_env(
        {
            "PORTAL_DATABASE_URL": "postgresql://u@db:5432/portal",
            "PORTAL_BASE_URL": "https://portal.acme.example/",
            "PORTAL_PORT": "9000",
            "PORTAL_ACCESS_TOKEN_SECONDS": "60",
        }
    )
    assert settings.database_url == "postgresql+asyncpg://u@db:5432/portal"
    assert settings.base_url == "https://portal.acme.example"
    assert settings.secure_cookies
    assert (settings.port, settings.access_token_seconds) == (9000, 60)


def test_production_refuses_the_default_or_a_short_secret() -> None:
    with pytest.raises(ConfigurationError, match="PORTAL_SECRET_KEY"):
        Settings.from_env({"PORTAL_ENV": "production"})
    with pytest.raises(ConfigurationError, match="PORTAL_SECRET_KEY"):
        Settings.from_env({"PORTAL_ENV": "production", "PORTAL_SECRET_KEY": "short"})
    ok = Settings.from_env({"PORTAL_ENV": "production", "PORTAL_SECRET_KEY": "k" * 40})
    assert ok.is_production


def test_production_refuses_the_fast_password_profile() -> None:
    with pytest.raises(ConfigurationError, match="PASSWORD_PROFILE"):
        Settings.from_env(
            {"PORTAL_ENV": "production", "PORTAL_SECRET_KEY": "k" * 40, "PORTAL_PASSWORD_PROFILE": "fast"}
        )


@pytest.mark.parametrize(
    ("name", "value"),
    [("PORTAL_PORT", "eighty"), ("PORTAL_ENV", "staging"), ("PORTAL_DATABASE_URL", "mysql://x/y")],
)
def test_bad_values_are_refused_with_the_variable_named(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError):
        Settings.from_env({name: value})


def test_database_urls_get_the_async_driver() -> None:
    assert normalise_database_url("postgres://x/y") == "postgresql+asyncpg://x/y"
    assert normalise_database_url("sqlite:///a.db") == "sqlite+aiosqlite:///a.db"
    assert normalise_database_url("postgresql+asyncpg://x/y") == "postgresql+asyncpg://x/y"


def test_settings_are_read_when_the_app_is_created_not_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    import portal.http.app

    monkeypatch.setenv("PORTAL_ENV", "production")
    with pytest.raises(ConfigurationError):
        portal.http.app.create_app()
