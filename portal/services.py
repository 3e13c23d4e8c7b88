"""The process-wide service objects an application instance is built from (one per app, no globals)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from portal.components import Component
from portal.config import Settings
from portal.db.engine import Database
from portal.home import HomeWidget
from portal.http.hosts import PartnerHosts
from portal.i18n import Catalogs
from portal.identity.accounts import Accounts, Staff
from portal.identity.passwords import Passwords
from portal.identity.resets import StaffResets
from portal.identity.sessions import Sessions
from portal.identity.throttle import SignInGuard
from portal.identity.tokens import AccessTokens
from portal.notifications.kinds import KERNEL_KINDS, Kinds
from portal.notifications.render import Renderer
from portal.notifications.service import Notifier
from portal.permissions import KERNEL_OBJECTS, AccessPolicy, ProtectedObject, SignedInOnly
from portal.storage.attachments import Attachments
from portal.storage.store import open_store

NOTIFICATION_TEMPLATES = Path(__file__).resolve().parent / "notifications" / "templates"


class Services:
    """A plain class on purpose: handlers receive it by injection, and the framework only validates
    dataclass and struct dependencies field by field."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        passwords: Passwords,
        sessions: Sessions,
        accounts: Accounts,
        catalogs: Catalogs,
        components: Sequence[Component] = (),
    ) -> None:
        self.settings = settings
        self.db = db
        self.passwords = passwords
        self.sessions = sessions
        self.accounts = accounts
        self.catalogs = catalogs
        self.components = components
        # Every object roles grant actions on, as the kernel and the components declare them.
        self.objects: dict[str, ProtectedObject] = {
            o.name: o for o in (*KERNEL_OBJECTS, *(o for c in components for o in c.objects))
        }
        self.permissions: AccessPolicy = SignedInOnly()
        # The widgets a partner's home may be composed of (portal.home), in the components' order.
        self.home_widgets: dict[str, HomeWidget] = {w.key: w for c in components for w in c.home_widgets}
        # Notifications to people: the kinds the kernel and the components register, rendered from
        # their templates (portal.notifications).
        self.notifications = Notifier(
            settings,
            Kinds((*KERNEL_KINDS, *(k for c in components for k in c.notification_kinds))),
            Renderer(
                [NOTIFICATION_TEMPLATES, *(c.template_dir for c in components if c.template_dir)],
                settings.default_language,
            ),
        )
        # Stored files and who owns them (portal.storage): the store PORTAL_STORAGE names, and each
        # component's kinds of record with files.
        self.attachments = Attachments(
            open_store(settings), (o for c in components for o in c.attachment_owners), settings.upload_max_bytes
        )
        self.staff_resets = StaffResets(db, passwords, accounts.guard, self.notifications, settings.base_url)
        # Which tenant's partner portal a request's host is (portal.http.hosts), remembered briefly.
        self.partner_hosts = PartnerHosts(db, settings)
        # Service objects of the packages built on the kernel, keyed by package (set in services_setup).
        self.extensions: dict[str, Any] = {}

    @classmethod
    def build(
        cls, settings: Settings, catalogs: Catalogs, components: Sequence[Component] = (), db: Database | None = None
    ) -> Services:
        db = db or Database(settings)
        passwords = Passwords(settings.password_profile)
        sessions = Sessions(
            db,
            AccessTokens(settings.secret_key, settings.base_url, settings.access_token_seconds),
            settings.web_session_seconds,
            settings.refresh_token_seconds,
        )
        accounts = Accounts(
            passwords,
            sessions,
            SignInGuard(
                db,
                passwords,
                settings.secret_key,
                settings.login_lockout_seconds,
                settings.login_failures_allowed,
                settings.login_address_failures_allowed,
            ),
            tenant_setups=[c.tenant_setup for c in components if c.tenant_setup],
        )
        services = cls(settings, db, passwords, sessions, accounts, catalogs, components)
        for component in components:
            if component.services_setup:
                component.services_setup(services)
        return services

    def use_access_policy(self, policy: AccessPolicy) -> None:
        """Install the policy every permission check, session lookup and role assignment goes through."""
        self.permissions = policy
        self.sessions.policy = policy

    def forget_database_state(self) -> None:
        """Forget everything this process keeps in memory about what the database holds (today: the
        compiled role policies, the partner domains), for when the database was put back to an earlier state
        underneath it."""
        self.permissions.forget()
        self.partner_hosts.forget()

    def staff(self, session: AsyncSession) -> Staff:
        return Staff(session, self.passwords, self.permissions)
