"""Demo spare parts for a service partner: a shipped request that stocked it (through the same services
as the pages: the partner asks, staff approve and ship) and a second request waiting for approval."""

from __future__ import annotations

from collections.abc import Sequence

from apps.ordering.models import Product
from apps.service.parts.objects import PARTNER_REQUEST, REQUEST
from apps.service.parts.requests import Line, PartRequests
from apps.service.tickets import Tickets


async def load_parts(staff: Tickets, dispatcher: Tickets, products: Sequence[Product], notes: Sequence[str]) -> None:
    """`notes`: the shipped request's note, then the waiting one's (in the tenant's language)."""
    if not products:
        return
    session, policy = staff.session, staff.policy
    partner = PartRequests(session, policy, dispatcher.actor, PARTNER_REQUEST)
    manufacturer = PartRequests(session, policy, staff.actor, REQUEST)
    quantities = (12, 6, 3)
    stocked = await partner.create([Line(p.id, q) for p, q in zip(products, quantities, strict=False)], notes[0])
    for action in ("approve", "ship"):
        await manufacturer.decide(stocked.id, action)
    await partner.create([Line(products[0].id, 10)], notes[1])
