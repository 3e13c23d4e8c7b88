"""The ticket's state machine, and nothing else: one table of (from, action, to, who may), the
permission each action needs on each side, and the checks the workflow makes before a transition.

    new -dispatch-> dispatched -accept-> accepted -start-> on_the_way -arrive-> on_site -resolve-> resolved
    resolved -confirm-> confirmed -close-> closed            (resolved -close-> closed: closed unconfirmed)
    dispatched | accepted -reject-> new                      (the partner hands it back, with a reason)
    dispatched .. on_hold -reassign-> dispatched             (staff send it to another partner)
    dispatched | accepted | on_hold -assign-> (unchanged)    (the partner's dispatcher names the engineer)
    accepted | on_the_way | on_site -hold-> on_hold -resume-> accepted   (waiting for parts)
    new .. on_hold -cancel-> cancelled
    resolved | confirmed | closed -reopen-> dispatched       (staff, within the tenant's window)
    new -pool-> new                                          (staff: into the open pool of its region)
    new -take-> accepted                                     (a partner of its region takes it from the pool)

The customer (an actor of kind "customer", through the ticket's progress link) may only confirm.

"Who may" is the side: the manufacturer's staff, the partner the ticket is dispatched to, or both. The
permission is then the roles package's answer for the actor's object ("service.ticket" for staff,
"partner.service.ticket" or "partner.service.job" for partners), and the data scope decides whether the
actor reaches the ticket at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from apps.service.models import Ticket
from portal.actor import Actor
from portal.errors import Conflict
from portal.i18n import N_, Msgid

STAFF, PARTNER, BOTH, CUSTOMER = "staff", "partner", "both", "customer"
ACTIVE = ("dispatched", "accepted", "on_the_way", "on_site", "on_hold")

# (from, action, to, who may)
TABLE: tuple[tuple[str, str, str, str], ...] = (
    ("new", "dispatch", "dispatched", STAFF),
    ("new", "pool", "new", STAFF),
    ("new", "take", "accepted", PARTNER),
    *((status, "reassign", "dispatched", STAFF) for status in ACTIVE),
    ("dispatched", "accept", "accepted", PARTNER),
    ("dispatched", "reject", "new", PARTNER),
    ("accepted", "reject", "new", PARTNER),
    ("dispatched", "assign", "dispatched", PARTNER),
    ("accepted", "assign", "accepted", PARTNER),
    ("on_hold", "assign", "on_hold", PARTNER),
    ("accepted", "start", "on_the_way", PARTNER),
    ("on_the_way", "arrive", "on_site", PARTNER),
    ("accepted", "hold", "on_hold", BOTH),
    ("on_the_way", "hold", "on_hold", BOTH),
    ("on_site", "hold", "on_hold", BOTH),
    ("on_hold", "resume", "accepted", BOTH),
    ("on_site", "resolve", "resolved", PARTNER),
    ("resolved", "confirm", "confirmed", STAFF),
    ("resolved", "close", "closed", STAFF),
    ("confirmed", "close", "closed", STAFF),
    ("resolved", "reopen", "dispatched", STAFF),
    ("confirmed", "reopen", "dispatched", STAFF),
    ("closed", "reopen", "dispatched", STAFF),
    *((status, "cancel", "cancelled", STAFF) for status in ("new", *ACTIVE)),
)
# action -> (staff permission on "service.ticket", partner permission on the partner's ticket object)
PERMISSIONS: Mapping[str, tuple[str | None, str | None]] = {
    "dispatch": ("dispatch", None),
    "pool": ("dispatch", None),
    "take": (None, "accept"),
    "reassign": ("dispatch", None),
    "accept": (None, "accept"),
    "reject": (None, "reject"),
    "assign": (None, "assign"),
    "start": (None, "work"),
    "arrive": (None, "work"),
    "hold": ("update", "work"),
    "resume": ("update", "work"),
    "resolve": (None, "work"),
    "confirm": ("close", None),
    "close": ("close", None),
    "reopen": ("close", None),
    "cancel": ("cancel", None),
}
ACTIONS = tuple(PERMISSIONS)
# What the customer may do through the ticket's progress link (no role: the link is the permission).
CUSTOMER_ACTIONS = frozenset({"confirm"})
# Actions whose note is required: the reason (or, resolving, what was done).
NOTE_REQUIRED = frozenset({"reject", "hold", "resolve", "reopen", "cancel"})
# When each status was (last) reached, for the ticket's own columns.
STAMPS = {
    "dispatched": "dispatched_at",
    "accepted": "accepted_at",
    "on_the_way": "on_the_way_at",
    "on_site": "on_site_at",
    "on_hold": "held_at",
    "resolved": "resolved_at",
    "confirmed": "confirmed_at",
    "closed": "closed_at",
    "cancelled": "cancelled_at",
}
# Before this a partner has not taken the work on: the customer's phone and address stay hidden from it.
BEFORE_ACCEPTANCE = frozenset({"new", "dispatched"})
OPEN = ("new", *ACTIVE)

LABELS = {
    "new": N_("New"),
    "dispatched": N_("Dispatched"),
    "accepted": N_("Accepted"),
    "on_the_way": N_("On the way"),
    "on_site": N_("On site"),
    "on_hold": N_("On hold"),
    "resolved": N_("Resolved"),
    "confirmed": N_("Confirmed"),
    "closed": N_("Closed"),
    "cancelled": N_("Cancelled"),
}
ACTION_LABELS = {
    "open": N_("Opened"),
    "dispatch": N_("Dispatch"),
    "pool": N_("Put in the open pool"),
    "take": N_("Take from the pool"),
    "reassign": N_("Dispatch to another partner"),
    "accept": N_("Accept"),
    "reject": N_("Reject"),
    "assign": N_("Assign an engineer"),
    "start": N_("On the way"),
    "arrive": N_("Arrived on site"),
    "hold": N_("Put on hold"),
    "resume": N_("Resume"),
    "resolve": N_("Resolve"),
    "confirm": N_("Confirm for the customer"),
    "close": N_("Close"),
    "reopen": N_("Reopen"),
    "cancel": N_("Cancel"),
    # the timer job's entries (apps.service.sla.timers), not transitions
    "sla_response": N_("Response target missed"),
    "sla_resolution": N_("Resolution target missed"),
    # dispatch by rules that found no partner: the ticket waits for staff
    "unmatched": N_("No dispatch rule matched"),
    # the field steps on site (apps.service.field), not transitions
    "check_in": N_("Checked in on site"),
    "work_note": N_("Work note"),
    "part_used": N_("Part used"),
    "photo": N_("Photo"),
    "signature": N_("Customer signed"),
}
ACTION_PAST = {
    "dispatch": N_("dispatched"),
    "pool": N_("put in the open pool"),
    "take": N_("taken from the pool"),
    "reassign": N_("dispatched to another partner"),
    "accept": N_("accepted"),
    "reject": N_("rejected"),
    "assign": N_("given an engineer"),
    "start": N_("set on the way"),
    "arrive": N_("set on site"),
    "hold": N_("put on hold"),
    "resume": N_("resumed"),
    "resolve": N_("resolved"),
    "confirm": N_("confirmed"),
    "close": N_("closed"),
    "reopen": N_("reopened"),
    "cancel": N_("cancelled"),
}


@dataclass(frozen=True, slots=True)
class Step:
    source: str
    action: str
    to: str
    who: str


STEPS: Mapping[tuple[str, str], Step] = {(s, a): Step(s, a, t, w) for s, a, t, w in TABLE}


class TransitionRefused(Conflict):
    code, title = "transition_refused", N_("The ticket cannot do this in its current status")


class TicketChanged(Conflict):
    code, title = "ticket_changed", N_("The ticket changed meanwhile")


def side(actor: Actor) -> str:
    if actor.kind == "customer":
        return CUSTOMER
    return PARTNER if actor.kind == "external" else STAFF


def step_for(status: str, action: str, actor: Actor) -> Step | None:
    """The step the action takes from this status for this side of the ticket, or None."""
    step = STEPS.get((status, action))
    if step is None:
        return None
    if side(actor) == CUSTOMER:  # the customer confirms what staff may confirm for them, nothing else
        return step if action in CUSTOMER_ACTIONS else None
    return step if step.who in (BOTH, side(actor)) else None


def permission_of(action: str, actor: Actor) -> str | None:
    """The action on the actor's ticket object that this transition needs (None: not this side's)."""
    staff, partner = PERMISSIONS[action]
    return partner if actor.kind == "external" else staff


def check(ticket: Ticket, action: str, actor: Actor) -> Step:
    """The step, or 409 naming the ticket's status as it is now."""
    step = step_for(ticket.status, action, actor)
    if step is None:
        raise TransitionRefused(
            N_("A ticket that is %(status)s cannot be %(action)s"),
            status=Msgid(LABELS[ticket.status]),
            action=Msgid(ACTION_PAST[action]),
        )
    return step


def actions_from(status: str, actor: Actor) -> list[str]:
    """The actions the status allows this side (permissions are asked separately)."""
    return [action for action in ACTIONS if step_for(status, action, actor) is not None]
