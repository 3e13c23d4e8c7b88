from __future__ import annotations

import secrets

import pytest

from portal.config import DEVELOPMENT_SECRET, MIN_SECRET_BITS, Settings, normalise_database_url, secret_bits
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
    ok = Settings.from_env(PRODUCTION)
    assert ok.is_production and ok.secure_cookies


# A secret as `secrets.token_urlsafe(24)` makes one, and an https base URL.
PRODUCTION = {
    "PORTAL_ENV": "production",
    "PORTAL_SECRET_KEY": "Jq3vX9-tLr0aPz7_WmE2kYb5NsH8cUdG",
    "PORTAL_BASE_URL": "https://portal.acme.example",
}


@pytest.mark.parametrize(
    "secret",
    [
        "k" * 40,
        "ab" * 20,
        "password" * 5,
        "abcdefghijklmnopqrstuvwxyz0123456789",
        "0123456789" * 4,
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
    ],
)
def test_production_refuses_a_long_but_guessable_secret(secret: str) -> None:
    assert secret_bits(secret) < MIN_SECRET_BITS
    with pytest.raises(ConfigurationError, match="guessable PORTAL_SECRET_KEY"):
        Settings.from_env({**PRODUCTION, "PORTAL_SECRET_KEY": secret})


def test_generated_secrets_are_accepted() -> None:
    for _ in range(200):
        assert Settings.from_env({**PRODUCTION, "PORTAL_SECRET_KEY": secrets.token_hex(16)}).is_production
        assert Settings.from_env({**PRODUCTION, "PORTAL_SECRET_KEY": secrets.token_urlsafe(32)}).is_production


def test_production_refuses_an_http_base_url_unless_tls_ends_at_a_proxy() -> None:
    plain = {**PRODUCTION, "PORTAL_BASE_URL": "http://portal.acme.example"}
    with pytest.raises(ConfigurationError, match="http:// PORTAL_BASE_URL"):
        Settings.from_env(plain)
    proxied = Settings.from_env({**plain, "PORTAL_TLS_TERMINATED_BY_PROXY": "true"})
    assert proxied.tls_terminated_by_proxy and proxied.secure_cookies
    with pytest.raises(ConfigurationError, match="PORTAL_TLS_TERMINATED_BY_PROXY"):
        Settings.from_env({**plain, "PORTAL_TLS_TERMINATED_BY_PROXY": "maybe"})
    assert Settings.from_env({"PORTAL_BASE_URL": "http://127.0.0.1:8000"}).environment == "development"


def test_production_refuses_the_fast_password_profile() -> None:
    with pytest.raises(ConfigurationError, match="PASSWORD_PROFILE"):
        Settings.from_env({**PRODUCTION, "PORTAL_PASSWORD_PROFILE": "fast"})


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
