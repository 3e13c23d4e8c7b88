"""Settings read from PORTAL_* environment variables when the application is created."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from portal.errors import ConfigurationError

# Only ever acceptable for the embedded development mode; production refuses to start with it.
DEVELOPMENT_SECRET = "development-secret-do-not-use-in-production"

ENVIRONMENTS = ("development", "test", "production")
PASSWORD_PROFILES = ("strong", "fast")


@dataclass(frozen=True, slots=True)
class Settings:
    environment: str = "development"
    data_dir: Path = Path("var")
    database_url: str = ""
    secret_key: str = DEVELOPMENT_SECRET
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 1024 * 1024
    access_token_seconds: int = 15 * 60
    refresh_token_seconds: int = 30 * 24 * 3600
    web_session_seconds: int = 12 * 3600
    login_failures_allowed: int = 5
    login_address_failures_allowed: int = 50
    login_lockout_seconds: int = 15 * 60
    password_profile: str = "strong"
    db_app_role: str = "portal_app"
    db_system_role: str = "portal_system"
    languages: tuple[str, ...] = ("en", "zh_CN")
    default_language: str = "en"
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def dialect(self) -> str:
        return self.database_url.split(":", 1)[0].split("+", 1)[0]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str, default: str) -> str:
            return env.get(f"PORTAL_{name}", default)

        def get_int(name: str, default: int) -> int:
            raw = get(name, str(default))
            try:
                return int(raw)
            except ValueError:
                raise ConfigurationError(f"PORTAL_{name} must be an integer, got {raw!r}") from None

        data_dir = Path(get("DATA_DIR", "var"))
        host, port = get("HOST", "127.0.0.1"), get_int("PORT", 8000)
        values: dict[str, object] = {
            "environment": get("ENV", "development"),
            "data_dir": data_dir,
            "database_url": normalise_database_url(
                get("DATABASE_URL", f"sqlite+aiosqlite:///{(data_dir / 'portal.db').as_posix()}")
            ),
            "secret_key": get("SECRET_KEY", DEVELOPMENT_SECRET),
            "base_url": get("BASE_URL", f"http://{host}:{port}").rstrip("/"),
            "host": host,
            "port": port,
            "max_body_bytes": get_int("MAX_BODY_BYTES", 1024 * 1024),
            "access_token_seconds": get_int("ACCESS_TOKEN_SECONDS", 15 * 60),
            "refresh_token_seconds": get_int("REFRESH_TOKEN_SECONDS", 30 * 24 * 3600),
            "web_session_seconds": get_int("WEB_SESSION_SECONDS", 12 * 3600),
            "login_failures_allowed": get_int("LOGIN_FAILURES_ALLOWED", 5),
            "login_address_failures_allowed": get_int("LOGIN_ADDRESS_FAILURES_ALLOWED", 50),
            "login_lockout_seconds": get_int("LOGIN_LOCKOUT_SECONDS", 15 * 60),
            "password_profile": get("PASSWORD_PROFILE", "strong"),
            "db_app_role": get("DB_APP_ROLE", "portal_app"),
            "db_system_role": get("DB_SYSTEM_ROLE", "portal_system"),
        }
        values.update(overrides)
        if "database_url" in overrides:
            values["database_url"] = normalise_database_url(str(overrides["database_url"]))
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.environment not in ENVIRONMENTS:
            raise ConfigurationError(f"PORTAL_ENV must be one of {', '.join(ENVIRONMENTS)}")
        if self.password_profile not in PASSWORD_PROFILES:
            raise ConfigurationError(f"PORTAL_PASSWORD_PROFILE must be one of {', '.join(PASSWORD_PROFILES)}")
        if self.dialect not in ("sqlite", "postgresql"):
            raise ConfigurationError("PORTAL_DATABASE_URL must be a sqlite or postgresql URL")
        if self.is_production:
            if self.secret_key == DEVELOPMENT_SECRET or len(self.secret_key) < 32:
                raise ConfigurationError(
                    "refusing to start in production with the default or a short PORTAL_SECRET_KEY "
                    "(set at least 32 random characters)"
                )
            if self.password_profile != "strong":
                raise ConfigurationError("production requires PORTAL_PASSWORD_PROFILE=strong")


def normalise_database_url(url: str) -> str:
    """Accept plain driver-less URLs and pick the async driver this application runs on."""
    for plain, async_ in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgresql+psycopg://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return async_ + url[len(plain) :]
    return url
