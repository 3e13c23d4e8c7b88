"""What a ticket's page shows of its field work: the record (check-ins, notes, parts, photos, the
signature) for whoever may read the ticket, and, for the engineer on site, the parts their enterprise
holds to choose from. Files are linked at /attachments/{id}, served after the ticket's own check."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from apps.ordering.models import Product
from apps.service.field import rules
from apps.service.field.steps import CHECK_IN_FROM, entries
from apps.service.parts.models import PartStock
from apps.service.tickets import Tickets

PAGE_FILES = "/attachments"


async def field_view(tickets: Tickets, ticket: dict[str, Any], *, may_work: bool) -> dict[str, Any]:
    ticket_id = uuid.UUID(str(ticket["id"]))
    _ticket, found = await entries(tickets, ticket_id)
    working = may_work and ticket["status"] in CHECK_IN_FROM
    parts: list[tuple[uuid.UUID, str, int]] = []
    if working and ticket["status"] == "on_site" and ticket.get("enterprise_id") is not None:
        rows = await tickets.session.execute(
            select(Product.id, Product.name, Product.sku, PartStock.quantity)
            .join(Product, (Product.tenant_id == PartStock.tenant_id) & (Product.id == PartStock.product_id))
            .where(PartStock.enterprise_id == ticket["enterprise_id"], PartStock.quantity > 0)
            .order_by(Product.name)
            .limit(500)
        )
        parts = [(key, f"{name} ({sku})", quantity) for key, name, sku, quantity in rows]
    return {
        "entries": [
            {
                "kind": e.kind,
                "at": e.at,
                "by": e.actor_name,
                "note": e.note,
                "latitude": e.latitude,
                "longitude": e.longitude,
                "accuracy_m": e.accuracy_m,
                "part": f"{e.product_name} ({e.sku})" if e.product_name else None,
                "quantity": e.quantity,
                "url": f"{PAGE_FILES}/{e.attachment_id}" if e.attachment_id else None,
            }
            for e in found
        ],
        "working": working,
        "on_site": ticket["status"] == "on_site",
        "parts": parts,
        "signature_required": await rules.signature_required(tickets.session),
        "signed": any(e.kind == "signature" for e in found),
    }
