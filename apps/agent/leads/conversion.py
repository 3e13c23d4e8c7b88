"""A held lead converted in one step: the lead is marked converted (no longer recycled) and registered
as a deal of its holder's enterprise, through the registration's duplicate check, which links it to the
customer's CRM account (made from the lead when none matches, with the lead's contact). The deal and the
account keep the lead's id, so the lead's events and follow-ups stay visible from the deal. A conversion
the registration refuses (another partner protects the customer) leaves the lead as it was."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from apps.agent.leads.models import Lead
from apps.agent.leads.service import Leads, LeadStateRefused
from apps.agent.models import Deal
from apps.agent.registrations.service import Registrations
from portal.crm.matching import email_key, phone_key
from portal.i18n import N_

# what the partner adds to the lead's own fields when converting it
CONVERSION_FIELDS = ("amount", "currency", "expected_close", "tax_id")


async def convert_lead(
    leads: Leads, registrations: Registrations, lead_id: uuid.UUID, values: Mapping[str, Any]
) -> tuple[Lead, Deal]:
    lead = await leads.convert(lead_id)
    if lead.enterprise_id is None:
        raise LeadStateRefused(N_("Only a lead a partner enterprise holds converts into its registered deal"))
    given = {name: values[name] for name in CONVERSION_FIELDS if values.get(name) not in (None, "")}
    registration = {
        "customer_name": lead.company_name,
        "amount": given.pop("amount", "0"),
        "contact_name": lead.contact_name,
        # a lead's phone or email that is not one (imported as typed) is not a key to match on
        "phone": lead.phone if phone_key(lead.phone) else None,
        "email": lead.email if email_key(lead.email) else None,
        "notes": lead.notes,
        **given,
    }
    deal = await registrations.register(
        {k: v for k, v in registration.items() if v is not None}, lead_id=lead.id, enterprise_id=lead.enterprise_id
    )
    return lead, deal
