"""What interconnect tells people (portal.notifications): one-time set-password and invitation links
sent to the person rather than shown to the admin who made them, password resets, and changes of their
enterprise's status, with the templates in interconnect/templates/notifications/."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.models import EnterpriseLink, ExternalIdentity, Membership
from portal.db.context import tenant_context
from portal.db.types import utcnow
from portal.http.hosts import partner_url
from portal.i18n import N_
from portal.identity.models import Tenant
from portal.notifications.kinds import NotificationKind
from portal.notifications.service import Notifier, Recipient, mask_email, mask_mobile
from portal.outbox import Event, Subscriber

if TYPE_CHECKING:
    from portal.services import Services

SET_PASSWORD = "interconnect.set_password"
INVITATION = "interconnect.invitation"
PASSWORD_RESET = "interconnect.password_reset"
ENTERPRISE_STATUS = "interconnect.enterprise_status"
PARTNERS = frozenset({"external"})

KINDS = (
    NotificationKind(
        SET_PASSWORD,
        N_("Your access to a partner portal (set a password)"),
        "notifications/set_password",
        audience=PARTNERS,
        security=True,
        sample={"name": "Li Wei", "workspace": "Acme Pumps", "days": 7},
    ),
    NotificationKind(
        INVITATION,
        N_("Invitation to a partner portal"),
        "notifications/invitation",
        audience=PARTNERS,
        security=True,
        sample={"name": "Li Wei", "workspace": "Acme Pumps", "days": 7},
    ),
    NotificationKind(
        PASSWORD_RESET,
        N_("Password reset on a partner portal"),
        "notifications/partner_password_reset",
        audience=PARTNERS,
        security=True,
        sample={"name": "Li Wei", "workspace": "Acme Pumps", "minutes": 30},
    ),
    NotificationKind(
        ENTERPRISE_STATUS,
        N_("Your enterprise's status in a programme"),
        "notifications/enterprise_status",
        audience=PARTNERS,
        sample={"name": "Li Wei", "workspace": "Acme Pumps", "enterprise": "Harbour Supplies", "status": "suspended"},
    ),
)


def recipient(membership: Membership, identity: ExternalIdentity, default_locale: str | None = None) -> Recipient:
    """A partner as notices reach them: the inbox of their membership here, and their login's own email
    and mobile, in their language. Never the contact details a manufacturer entered on the membership:
    a link for a global login sent there would let that manufacturer take the login over."""
    return Recipient(
        "external",
        membership.id,
        membership.display_name,
        identity.email,
        identity.mobile,
        identity.locale or default_locale,
    )


def shown_address(person: Recipient, notifier: Notifier) -> str:
    """Where a link went, masked: "a***@example.com" (or the mobile number, masked)."""
    if notifier.settings.email_configured and person.email:
        return mask_email(person.email)
    return mask_mobile(person.mobile or "")


@dataclass(frozen=True, slots=True)
class Handover:
    """How a one-time link reached its person: sent (`sent_to`, masked) or, with no delivery channel
    for them, handed to the admin to pass on (`url`). Never both."""

    url: str | None = None
    sent_to: str | None = None


async def hand_over_setup_link(
    session: AsyncSession,
    notifier: Notifier,
    membership: Membership,
    identity: ExternalIdentity,
    base_url: str,
    path: str,
    days: int,
) -> Handover:
    """Send a set-password link (or, for a person with a login, an invitation to accept) to the person
    when a channel reaches them; otherwise give it back for the admin to pass on, as before (on the platform's
    address: it works on every host). The link a notice carries is on the manufacturer's partner domain when it
    has one (portal.http.hosts.partner_url)."""
    tenant = (await session.scalars(select(Tenant).where(Tenant.id == membership.tenant_id))).one()
    person = recipient(membership, identity, tenant.default_locale)
    if not notifier.can_reach(person):
        return Handover(url=base_url.rstrip("/") + path)
    url = partner_url(base_url, tenant.slug, tenant.partner_domain, path)
    kind = INVITATION if identity.password_hash is not None else SET_PASSWORD
    await notifier.notify(
        session,
        person,
        kind,
        {"name": membership.display_name, "workspace": tenant.name, "days": days},
        link=url,
        link_expires_at=utcnow() + timedelta(days=days),
    )
    return Handover(sent_to=shown_address(person, notifier))


async def _status_changed(services: Services, event: Event) -> None:
    """Tell the enterprise's admins that its status in the programme changed (once per event)."""
    status = str(event.payload.get("to", ""))
    if status not in ("active", "suspended", "terminated"):
        return
    async with services.db.session(tenant_context(event.tenant_id, channel="system")) as session:
        tenant = (await session.scalars(select(Tenant).where(Tenant.id == event.tenant_id))).one()
        link = await session.scalar(select(EnterpriseLink).where(EnterpriseLink.id == event.aggregate_id))
        if link is None:
            return
        rows = await session.execute(
            select(Membership, ExternalIdentity)
            .join(ExternalIdentity, ExternalIdentity.id == Membership.identity_id)
            .where(
                Membership.link_id == link.id, Membership.is_enterprise_admin.is_(True), Membership.status != "invited"
            )
        )
        for membership, identity in rows.all():
            await services.notifications.notify(
                session,
                recipient(membership, identity, tenant.default_locale),
                ENTERPRISE_STATUS,
                {"name": membership.display_name, "workspace": tenant.name, "enterprise": link.name, "status": status},
                dedup_key=f"{event.id.hex}:{membership.id.hex}",
            )


SUBSCRIBERS = (
    Subscriber(
        "interconnect.enterprise_status_notices",
        lambda event_type: event_type in ("link.established", "link.suspended", "link.terminated"),
        _status_changed,
        label=N_("Enterprise status notices"),
    ),
)

__all__ = ["KINDS", "SUBSCRIBERS", "Handover", "hand_over_setup_link", "recipient"]
