"""Interconnect's process-wide service objects, built once with the kernel's services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.access import USER_KIND, PartnerAccess, load_external
from interconnect.invitations import InvitationSigner, Onboarding
from interconnect.models import ExternalIdentity, Membership
from interconnect.notices import Handover, hand_over_setup_link
from interconnect.people import SETUP_LIFETIME
from interconnect.resets import PartnerResets
from portal.notifications.service import Notifier
from portal.services import Services


@dataclass
class Interconnect:
    base_url: str
    signer: InvitationSigner
    onboarding: Onboarding
    access: PartnerAccess
    resets: PartnerResets
    notifier: Notifier

    def invitation_url(self, tenant_id: Any, invitation_id: Any) -> str:
        return f"{self.base_url}/join/{self.signer.token(tenant_id, invitation_id)}"

    def setup_url(self, credential: str) -> str:
        return f"{self.base_url}/setup/{credential}"

    async def hand_over(
        self, session: AsyncSession, membership: Membership, identity: ExternalIdentity, credential: str
    ) -> Handover:
        """A new one-time set-password (or accept) link, sent to the person when a channel reaches them,
        else returned for the admin to pass on."""
        return await hand_over_setup_link(
            session, self.notifier, membership, identity, self.setup_url(credential), SETUP_LIFETIME.days
        )


def setup(services: Services) -> None:
    settings = services.settings
    signer = InvitationSigner(settings.secret_key)
    services.sessions.register(USER_KIND, load_external)
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
    )


def provide_interconnect(request: Request[Any, Any, Any]) -> Interconnect:
    return request.app.state.services.extensions["interconnect"]


DEPENDENCIES = {"interconnect": Provide(provide_interconnect, sync_to_thread=False)}
InterconnectDep = NamedDependency[Interconnect]
