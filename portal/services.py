"""The process-wide service objects an application instance is built from (one per app, no globals)."""

from __future__ import annotations

from dataclasses import dataclass

from portal.config import Settings
from portal.db.engine import Database
from portal.i18n import Catalogs
from portal.identity.accounts import Accounts
from portal.identity.passwords import Passwords
from portal.identity.sessions import Sessions
from portal.identity.throttle import LoginThrottler
from portal.identity.tokens import AccessTokens
from portal.permissions import PermissionChecker, StaffRolePermissions


@dataclass
class Services:
    settings: Settings
    db: Database
    passwords: Passwords
    sessions: Sessions
    accounts: Accounts
    permissions: PermissionChecker
    catalogs: Catalogs

    @classmethod
    def build(cls, settings: Settings, catalogs: Catalogs, db: Database | None = None) -> Services:
        db = db or Database(settings)
        passwords = Passwords(settings.password_profile)
        sessions = Sessions(
            db,
            AccessTokens(settings.secret_key, settings.base_url, settings.access_token_seconds),
            settings.web_session_seconds,
            settings.refresh_token_seconds,
        )
        accounts = Accounts(
            db, passwords, sessions, LoginThrottler(settings.login_lockout_seconds), settings.login_failures_allowed
        )
        return cls(settings, db, passwords, sessions, accounts, StaffRolePermissions(), catalogs)
