"""Interconnect's process-wide service objects, built once with the kernel's services."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.access import EXTERNAL_PRINCIPAL, USER_KIND, PartnerAccess, load_external
from interconnect.invitations import InvitationSigner, Onboarding
from interconnect.models import ExternalIdentity, Membership
from interconnect.notices import Handover, hand_over_setup_link, recipient
from interconnect.people import SETUP_LIFETIME
from interconnect.resets import PartnerResets
from portal.actor import Actor
from portal.errors import ConfigurationError
from portal.i18n import N_
from portal.identity.throttle import SignInGuard
from portal.notifications.service import Notifier
from portal.services import Services

# Invitations one person may have sent by email or SMS per window of the sign-in guard
# (PORTAL_LOGIN_LOCKOUT_SECONDS, 15 minutes by default); PORTAL_INVITATIONS_PER_INVITER changes it.
INVITATIONS_PER_INVITER = 20


def invitations_per_inviter(extra: Mapping[str, str]) -> int:
    raw = extra.get("INVITATIONS_PER_INVITER")
    if raw is None:
        return INVITATIONS_PER_INVITER
    if not raw.strip().isdigit() or int(raw) < 1:
        raise ConfigurationError(f"PORTAL_INVITATIONS_PER_INVITER must be a whole number of at least 1, got {raw!r}")
    return int(raw)


@dataclass
class Interconnect:
    base_url: str
    signer: InvitationSigner
    onboarding: Onboarding
    access: PartnerAccess
    resets: PartnerResets
    notifier: Notifier
    guard: SignInGuard
    invitations_per_inviter: int = INVITATIONS_PER_INVITER

    def invitation_url(self, tenant_id: Any, invitation_id: Any) -> str:
        return f"{self.base_url}/join/{self.signer.token(tenant_id, invitation_id)}"

    def setup_url(self, credential: str) -> str:
        return f"{self.base_url}/setup/{credential}"

    async def hand_over(
        self,
        session: AsyncSession,
        membership: Membership,
        identity: ExternalIdentity,
        credential: str,
        *,
        by: Actor | None = None,
    ) -> Handover:
        """A new one-time set-password (or accept) link, sent to the person when a channel reaches them,
        else returned for the admin to pass on. `by`, the person inviting (an import, which staff
        started, passes none): the invitations they have the platform send, by email or SMS, are limited
        to `invitations_per_inviter` per window of the sign-in guard (Throttled past it), so nobody can
        use the platform's address to mail strangers at will."""
        if by is not None and self.notifier.can_reach(recipient(membership, identity)):
            await self.guard.count_action(
                session,
                f"invitations:{by.user_id}",
                self.invitations_per_inviter,
                N_("You have sent many invitations lately; try again in %(seconds)s seconds"),
            )
        return await hand_over_setup_link(
            session, self.notifier, membership, identity, self.base_url, f"/setup/{credential}", SETUP_LIFETIME.days
        )


def setup(services: Services) -> None:
    settings = services.settings
    signer = InvitationSigner(settings.secret_key)
    services.sessions.register(USER_KIND, load_external, EXTERNAL_PRINCIPAL)
    services.extensions["interconnect"] = Interconnect(
        base_url=settings.base_url,
        signer=signer,
        # the access policy in use is installed by a later component, so it is looked up when asked
        onboarding=Onboarding(services.passwords, signer, services.accounts.guard, lambda: services.permissions),
        access=PartnerAccess(services.db, services.passwords, services.sessions, services.accounts.guard),
        resets=PartnerResets(
            services.db, services.passwords, services.accounts.guard, services.notifications, settings.base_url
        ),
        notifier=services.notifications,
        guard=services.accounts.guard,
        invitations_per_inviter=invitations_per_inviter(settings.extra),
    )


def provide_interconnect(request: Request[Any, Any, Any]) -> Interconnect:
    return request.app.state.services.extensions["interconnect"]


DEPENDENCIES = {"interconnect": Provide(provide_interconnect, sync_to_thread=False)}
InterconnectDep = NamedDependency[Interconnect]
