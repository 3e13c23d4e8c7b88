"""The event types a webhook endpoint may subscribe to: the ones the platform publishes that are meant for
the outside world, each with what it means. Internal events (notifications, imports, whatever later
packages publish for their own use) are not here and never leave the platform by webhook."""

from __future__ import annotations

from portal.i18n import N_

# A test delivery sent on request from the console or the API; no endpoint subscribes to it.
PING = "webhook.ping"

PUBLIC_EVENT_TYPES: dict[str, str] = {
    "link.invited": N_("A partner enterprise was invited"),
    "link.established": N_("A partner enterprise joined the programme or was reactivated"),
    "link.suspended": N_("A partner enterprise was suspended"),
    "link.terminated": N_("A partner enterprise left the programme"),
    "link.updated": N_("A partner enterprise's name, type, tier, region, code or phone changed"),
    "user.joined": N_("A partner person joined their enterprise's workspace"),
    "user.disabled": N_("A partner person's access was disabled"),
    "user.enabled": N_("A partner person's access was enabled again"),
    "ordering.order.submitted": N_("A partner placed an order"),
    "ordering.order.approved": N_("An order was approved"),
    "ordering.order.rejected": N_("An order was rejected"),
    "ordering.order.cancelled": N_("An order was cancelled"),
    "ordering.order.partially_shipped": N_("Part of an order was shipped"),
    "ordering.order.shipped": N_("An order was shipped in full"),
    "ordering.order.received": N_("An order was received"),
    "ordering.order.completed": N_("An order was completed"),
    "ordering.payment.reported": N_("A partner reported a payment"),
    "ordering.payment.confirmed": N_("A payment was confirmed"),
    "ordering.payment.rejected": N_("A reported payment was rejected"),
}


def is_public(event_type: str) -> bool:
    return event_type in PUBLIC_EVENT_TYPES
