"""The order's state machine: which action moves an order from which states to which, who may take it,
and nothing else. Services call `check()` before a transition and `move()` to make it; any other status
change is a programming error.

    draft -submit-> submitted -approve-> approved -ship-> partially_shipped -ship-> shipped
    submitted -reject-> rejected;  shipped -receive-> received -complete-> completed
    draft | submitted | approved -cancel-> cancelled   (partners: draft | submitted only)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from apps.ordering.models import Order, OrderEvent
from portal.actor import Actor
from portal.db.types import utcnow
from portal.errors import Conflict
from portal.i18n import N_, Msgid


@dataclass(frozen=True, slots=True)
class Transition:
    sources: frozenset[str]
    partner_sources: frozenset[str]  # where a partner may take it (empty: staff only)


TRANSITIONS: Mapping[str, Transition] = {
    "submit": Transition(frozenset({"draft"}), frozenset({"draft"})),
    "approve": Transition(frozenset({"submitted"}), frozenset()),
    "reject": Transition(frozenset({"submitted"}), frozenset()),
    "ship": Transition(frozenset({"approved", "partially_shipped"}), frozenset()),
    "receive": Transition(frozenset({"shipped"}), frozenset({"shipped"})),
    "complete": Transition(frozenset({"received"}), frozenset()),
    "cancel": Transition(frozenset({"draft", "submitted", "approved"}), frozenset({"draft", "submitted"})),
}
# When each status was reached, for the order's own columns.
STAMPS = {
    "submitted": "submitted_at",
    "approved": "approved_at",
    "shipped": "shipped_at",
    "received": "received_at",
    "completed": "completed_at",
    "cancelled": "cancelled_at",
}
LABELS = {
    "draft": N_("Draft"),
    "submitted": N_("Submitted"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "partially_shipped": N_("Partially shipped"),
    "shipped": N_("Shipped"),
    "received": N_("Received"),
    "completed": N_("Completed"),
    "cancelled": N_("Cancelled"),
}


class TransitionRefused(Conflict):
    code, title = "transition_refused", N_("The order cannot do this in its current status")


def allowed(action: str, status: str, actor: Actor) -> bool:
    transition = TRANSITIONS[action]
    sources = transition.partner_sources if actor.kind == "external" else transition.sources
    return status in sources


def actions_for(status: str, actor: Actor) -> list[str]:
    """The transitions an order's status allows this kind of actor (permissions are the guard's)."""
    return [action for action in TRANSITIONS if allowed(action, status, actor)]


def check(order: Order, action: str, actor: Actor) -> None:
    if not allowed(action, order.status, actor):
        raise TransitionRefused(
            N_("An order that is %(status)s cannot be %(action)s"),
            status=Msgid(LABELS[order.status]),
            action=Msgid(ACTION_PAST[action]),
        )


ACTION_PAST = {
    "submit": N_("submitted"),
    "approve": N_("approved"),
    "reject": N_("rejected"),
    "ship": N_("shipped"),
    "receive": N_("received"),
    "complete": N_("completed"),
    "cancel": N_("cancelled"),
}


def move(
    order: Order, action: str, to_status: str, actor: Actor, comment: str | None = None, *, automatic: bool = False
) -> OrderEvent:
    """Change the status and write the timeline entry (the caller adds it to the session). `automatic`:
    the platform moves the order on its own rules (a received order paid in full completes; a shipped
    one is received after the tenant's number of days), following what staff may do."""
    if automatic:
        if order.status not in TRANSITIONS[action].sources:
            check(order, action, actor)
    else:
        check(order, action, actor)
    event = OrderEvent(
        order_id=order.id,
        action=action,
        from_status=order.status,
        to_status=to_status,
        actor_kind="system" if automatic else actor.kind,
        actor_id=None if automatic else actor.user_id,
        actor_name=None if automatic else actor.display_name or actor.email or None,
        comment=comment,
    )
    order.status = to_status
    stamp = STAMPS.get(to_status)
    if stamp is not None:
        setattr(order, stamp, utcnow())
    return event
