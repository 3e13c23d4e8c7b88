"""Settings read from PORTAL_* environment variables when the application is created."""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from portal.errors import ConfigurationError

# Only ever acceptable for the embedded development mode; production refuses to start with it.
DEVELOPMENT_SECRET = "development-secret-do-not-use-in-production"

ENVIRONMENTS = ("development", "test", "production")
PASSWORD_PROFILES = ("strong", "fast")
SMTP_TLS_MODES = ("starttls", "tls", "none")
STORAGE_BACKENDS = ("local", "s3")
# The most an upload may be, whatever PORTAL_UPLOAD_MAX_BYTES says: upload routes declare their request
# body limit when they are defined (portal.storage.uploads.UPLOAD_BODY_LIMIT), before settings are read.
UPLOAD_CEILING_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Settings:
    environment: str = "development"
    data_dir: Path = Path("var")
    database_url: str = ""
    secret_key: str = DEVELOPMENT_SECRET
    base_url: str = "http://127.0.0.1:8000"
    # TLS ends at a proxy in front of the application, which itself is reached over plain HTTP.
    tls_terminated_by_proxy: bool = False
    # The proxy in front sets X-Forwarded-Host to the host the browser asked for: only then is that header
    # read (to find a partner domain); otherwise anyone could send it.
    trust_forwarded_host: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 1024 * 1024
    access_token_seconds: int = 15 * 60
    refresh_token_seconds: int = 30 * 24 * 3600
    web_session_seconds: int = 12 * 3600
    login_failures_allowed: int = 5
    login_address_failures_allowed: int = 50
    login_lockout_seconds: int = 15 * 60
    # Delivered outbox events are purged this many days after delivery (dead ones are kept).
    outbox_retention_days: int = 30
    password_profile: str = "strong"
    db_app_role: str = "portal_app"
    db_system_role: str = "portal_system"
    languages: tuple[str, ...] = ("en", "zh_CN")
    default_language: str = "en"
    # Whether `portal serve` runs the delivery worker inside the web process: "auto" (on for the embedded
    # SQLite default outside tests, off on PostgreSQL, where `portal worker` runs apart), "true" or "false".
    worker_in_process: str = "auto"
    # Email to people (notifications): an SMTP server; no host, no email.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_from: str = ""
    smtp_tls: str = "starttls"  # starttls | tls (implicit, usually port 465) | none
    smtp_timeout_seconds: int = 20
    # SMS to people: a provider reached by a JSON POST (docs/notifications.md); no URL, no SMS.
    sms_url: str = ""
    sms_key: str = ""
    # Stored files (portal.storage): on local disk under data_dir/files, or in an S3-compatible bucket.
    storage_backend: str = "local"
    upload_max_bytes: int = 10 * 1024 * 1024
    s3_endpoint: str = ""  # empty: AWS itself (https://s3.<region>.amazonaws.com)
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://") or self.tls_terminated_by_proxy

    @property
    def email_configured(self) -> bool:
        return bool(self.smtp_host)

    @property
    def sms_configured(self) -> bool:
        return bool(self.sms_url)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def runs_worker_in_process(self) -> bool:
        if self.worker_in_process == "auto":
            return self.dialect == "sqlite" and self.environment != "test"
        return self.worker_in_process == "true"

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

        def get_bool(name: str, default: bool) -> bool:
            raw = get(name, "true" if default else "false").strip().lower()
            if raw in ("1", "true", "yes", "on"):
                return True
            if raw in ("0", "false", "no", "off", ""):
                return False
            raise ConfigurationError(f"PORTAL_{name} must be true or false, got {raw!r}")

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
            "tls_terminated_by_proxy": get_bool("TLS_TERMINATED_BY_PROXY", False),
            "trust_forwarded_host": get_bool("TRUST_FORWARDED_HOST", False),
            "host": host,
            "port": port,
            "max_body_bytes": get_int("MAX_BODY_BYTES", 1024 * 1024),
            "access_token_seconds": get_int("ACCESS_TOKEN_SECONDS", 15 * 60),
            "refresh_token_seconds": get_int("REFRESH_TOKEN_SECONDS", 30 * 24 * 3600),
            "web_session_seconds": get_int("WEB_SESSION_SECONDS", 12 * 3600),
            "login_failures_allowed": get_int("LOGIN_FAILURES_ALLOWED", 5),
            "login_address_failures_allowed": get_int("LOGIN_ADDRESS_FAILURES_ALLOWED", 50),
            "login_lockout_seconds": get_int("LOGIN_LOCKOUT_SECONDS", 15 * 60),
            "outbox_retention_days": get_int("OUTBOX_RETENTION_DAYS", 30),
            "password_profile": get("PASSWORD_PROFILE", "strong"),
            "db_app_role": get("DB_APP_ROLE", "portal_app"),
            "db_system_role": get("DB_SYSTEM_ROLE", "portal_system"),
            "worker_in_process": get("WORKER_IN_PROCESS", "auto").strip().lower(),
            # every PORTAL_* variable without its prefix, for the components' own settings
            "extra": {k.removeprefix("PORTAL_"): v for k, v in env.items() if k.startswith("PORTAL_")},
            "smtp_host": get("SMTP_HOST", ""),
            "smtp_port": get_int("SMTP_PORT", 587),
            "smtp_username": get("SMTP_USERNAME", ""),
            "smtp_password": get("SMTP_PASSWORD", ""),
            "smtp_from": get("SMTP_FROM", ""),
            "smtp_tls": get("SMTP_TLS", "starttls").strip().lower(),
            "smtp_timeout_seconds": get_int("SMTP_TIMEOUT_SECONDS", 20),
            "sms_url": get("SMS_URL", ""),
            "sms_key": get("SMS_KEY", ""),
            "storage_backend": get("STORAGE", "local").strip().lower(),
            "upload_max_bytes": get_int("UPLOAD_MAX_BYTES", 10 * 1024 * 1024),
            "s3_endpoint": get("S3_ENDPOINT", "").rstrip("/"),
            "s3_bucket": get("S3_BUCKET", ""),
            "s3_region": get("S3_REGION", "us-east-1"),
            "s3_access_key_id": get("S3_ACCESS_KEY_ID", ""),
            "s3_secret_access_key": get("S3_SECRET_ACCESS_KEY", ""),
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
        if self.worker_in_process not in ("auto", "true", "false"):
            raise ConfigurationError("PORTAL_WORKER_IN_PROCESS must be auto, true or false")
        if self.dialect not in ("sqlite", "postgresql"):
            raise ConfigurationError("PORTAL_DATABASE_URL must be a sqlite or postgresql URL")
        if self.outbox_retention_days < 1:
            raise ConfigurationError("PORTAL_OUTBOX_RETENTION_DAYS must be at least 1")
        if self.smtp_tls not in SMTP_TLS_MODES:
            raise ConfigurationError(f"PORTAL_SMTP_TLS must be one of {', '.join(SMTP_TLS_MODES)}")
        if self.smtp_host and not self.smtp_from:
            raise ConfigurationError("PORTAL_SMTP_FROM is required when PORTAL_SMTP_HOST is set")
        if self.sms_url and not self.sms_url.startswith(("https://", "http://")):
            raise ConfigurationError("PORTAL_SMS_URL must be an http(s) URL")
        if self.storage_backend not in STORAGE_BACKENDS:
            raise ConfigurationError(f"PORTAL_STORAGE must be one of {', '.join(STORAGE_BACKENDS)}")
        if not 1 <= self.upload_max_bytes <= UPLOAD_CEILING_BYTES:
            raise ConfigurationError(f"PORTAL_UPLOAD_MAX_BYTES must be between 1 and {UPLOAD_CEILING_BYTES}")
        if self.storage_backend == "s3":
            missing = [
                f"PORTAL_{name}"
                for name, value in (
                    ("S3_BUCKET", self.s3_bucket),
                    ("S3_ACCESS_KEY_ID", self.s3_access_key_id),
                    ("S3_SECRET_ACCESS_KEY", self.s3_secret_access_key),
                )
                if not value
            ]
            if missing:
                raise ConfigurationError(f"PORTAL_STORAGE=s3 needs {', '.join(missing)}")
            if self.s3_endpoint and not self.s3_endpoint.startswith(("https://", "http://")):
                raise ConfigurationError("PORTAL_S3_ENDPOINT must be an http(s) URL")
        if self.is_production:
            if self.s3_endpoint.startswith("http://") and self.storage_backend == "s3":
                raise ConfigurationError("refusing to start in production with an http:// PORTAL_S3_ENDPOINT")
            if self.sms_url.startswith("http://"):
                raise ConfigurationError("refusing to start in production with an http:// PORTAL_SMS_URL")
            if self.smtp_host and self.smtp_tls == "none":
                raise ConfigurationError("refusing to start in production with PORTAL_SMTP_TLS=none")
            if self.secret_key == DEVELOPMENT_SECRET or len(self.secret_key) < 32:
                raise ConfigurationError(
                    "refusing to start in production with the default or a short PORTAL_SECRET_KEY "
                    "(set at least 32 random characters)"
                )
            if secret_bits(self.secret_key) < MIN_SECRET_BITS:
                raise ConfigurationError(
                    "refusing to start in production with a guessable PORTAL_SECRET_KEY (too few different "
                    "characters or a repeated pattern); generate one, e.g. "
                    "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
                )
            if self.password_profile != "strong":
                raise ConfigurationError("production requires PORTAL_PASSWORD_PROFILE=strong")
            if not self.base_url.startswith("https://") and not self.tls_terminated_by_proxy:
                raise ConfigurationError(
                    "refusing to start in production with an http:// PORTAL_BASE_URL: set an https:// one, or "
                    "PORTAL_TLS_TERMINATED_BY_PROXY=true when a proxy in front ends TLS"
                )


# What a random secret of 32 characters from a 16-letter alphabet (hex) reaches, with room for the
# letters that happen to repeat in a short sample; a word or a pattern stays far below.
MIN_SECRET_BITS = 96.0


def secret_bits(secret: str) -> float:
    """A pessimistic estimate of how hard a secret is to guess: its length times the entropy of its
    character frequencies, counted as nothing when it is one short unit repeated ("abab...", "k" * 40)
    and halved when it is a run of consecutive characters ("abcdef...", "0123...")."""
    if not secret:
        return 0.0
    for size in range(1, len(secret) // 2 + 1):
        if len(secret) % size == 0 and secret[:size] * (len(secret) // size) == secret:
            return 0.0
    counts = Counter(secret)
    per_char = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    steps = Counter(ord(b) - ord(a) for a, b in pairwise(secret))
    if steps.most_common(1)[0][1] > len(secret) // 2:
        per_char /= 2
    return per_char * len(secret)


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
