"""Registrations in conflict and extension requests as kinds of subject of the approvals engine
(roles.approvals): the request opens when a registration is flagged or an extension is asked for, each
decision is a step of it (its flow may have several), and the last step settles the registration."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apps.agent.deals import Deals
from apps.agent.objects import STAFF_OBJECT, STAFF_REGISTRATION
from portal.i18n import N_
from roles.approvals import ApprovalKind, Decision

if TYPE_CHECKING:
    from apps.agent.registrations.service import Registrations

REGISTRATION_KIND = "agent.registration"
EXTENSION_KIND = "agent.extension"
CONSOLE = "/console/agent/registrations"


def _registrations(decision: Decision) -> Registrations:
    from apps.agent.registrations.service import Registrations

    registrations = decision.state.get("registrations")
    if registrations is None:
        registrations = Registrations(
            decision.session, Deals(decision.session, decision.policy, decision.actor, STAFF_OBJECT)
        )
        decision.state["registrations"] = registrations
    return registrations


async def _check_registration(decision: Decision) -> None:
    if "deal" not in decision.state:
        decision.state["deal"] = await _registrations(decision).conflicted(decision.subject_id)


async def _check_extension(decision: Decision) -> None:
    if "deal" not in decision.state:
        decision.state["deal"] = await _registrations(decision).extension_waiting(decision.subject_id)


async def _registration_approved(decision: Decision) -> None:
    await _registrations(decision).settle(decision.state["deal"], decision.choice or "approve")


async def _registration_rejected(decision: Decision) -> None:
    await _registrations(decision).settle(decision.state["deal"], "reject")


async def _extension_approved(decision: Decision) -> None:
    await _registrations(decision).settle_extension(decision.state["deal"], True)


async def _extension_rejected(decision: Decision) -> None:
    await _registrations(decision).settle_extension(decision.state["deal"], False)


REGISTRATION_APPROVAL = ApprovalKind(
    key=REGISTRATION_KIND,
    label=N_("Deal registration in conflict"),
    permission=(STAFF_REGISTRATION, "decide"),
    link=lambda deal_id: f"{CONSOLE}#deal-{deal_id}",
    check=_check_registration,
    approved=_registration_approved,
    rejected=_registration_rejected,
    choices=("approve", "split"),
)
EXTENSION_APPROVAL = ApprovalKind(
    key=EXTENSION_KIND,
    label=N_("Protection extension"),
    permission=(STAFF_REGISTRATION, "decide"),
    link=lambda deal_id: f"{CONSOLE}#extension-{deal_id}",
    check=_check_extension,
    approved=_extension_approved,
    rejected=_extension_rejected,
)
KINDS = (REGISTRATION_APPROVAL, EXTENSION_APPROVAL)
