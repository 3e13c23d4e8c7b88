"""What the role pages share: forms with repeated fields, labels of stored codes, role display names,
the objects of each audience, and the role admin of the request."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.errors import ValidationFailed
from portal.i18n import N_, gettext, lazy
from portal.permissions import ANY, STANDARD_ACTIONS, ProtectedObject
from roles.models import Role
from roles.presets import PARTNER_APPS

# Paths under /console/roles/ that are pages, so never a role's key.
RESERVED_KEYS = frozenset({"templates", "data", "sharing", "teams", "new", "preview", "explain", "objects"})

ACTION_LABELS: dict[str, str] = {
    "read": lazy.pgettext("permission", "View"),
    "create": N_("Create"),
    "update": N_("Change"),
    "delete": N_("Delete"),
    "export": N_("Export"),
    "approve": N_("Approve"),
    "import": N_("Import"),
    "cancel": N_("Cancel"),
    "ship": N_("Ship"),
    "receive": N_("Confirm receipt"),
    "run": N_("Run"),  # a scheduled job, now (delivery.job)
    "replay": N_("Replay"),
    # service tickets: staff dispatch and close them, partners accept, hand back, assign and work on them
    "dispatch": N_("Dispatch"),
    "close": N_("Close"),
    "accept": N_("Accept"),
    "reject": N_("Reject"),
    "assign": N_("Assign an engineer"),
    "work": N_("Work on it"),
    "resolve": N_("Resolve"),  # a sync conflict
    # leads: partners claim them from a pool and give them back; staff distribute them
    "claim": N_("Claim"),
    "return": N_("Give back"),
    "distribute": N_("Distribute"),
    # service settlements: partners dispute a line
    "dispute": N_("Dispute"),
    # spare parts: staff correct a partner's stock
    "adjust": N_("Adjust"),
    # deal registrations, commissions and market development funds
    "decide": N_("Decide"),
    "setup": N_("Set up"),
    "budget": N_("Set budgets"),
    "pay": N_("Pay"),
    "request": N_("Ask"),
    "review": N_("Review"),
    "write": N_("Write"),  # what an integration key's scope lets it send (sync/integrations)
    ANY: N_("All actions"),
}
KIND_LABELS: dict[str, str] = {"internal": N_("Staff role"), "external": N_("Partner role")}
DATA_LEVEL_LABELS: dict[str, str] = {
    "none": N_("No access"),
    "private": N_("Own records only"),
    "enterprise_read": N_("Own enterprise: view"),
    "enterprise_write": N_("Own enterprise: view and change"),
    "public_read": N_("All partners' records: view"),
    "public_write": N_("All partners' records: view and change"),
}
SCOPE_LABELS: dict[str, str] = {
    "": N_("Not set"),
    "own": N_("Own records"),
    "team": N_("Team's records"),
    "region": N_("Team's regions"),
    "all": N_("All records"),
}
FIELD_ACCESS_LABELS: dict[str, str] = {
    "read_write": N_("Read and write"),
    "read_only": N_("Read only"),
    "hidden": N_("Hidden"),
}
OPERATOR_LABELS: dict[str, str] = {
    "eq": "=",
    "ne": "≠",
    "in": N_("is one of"),
    "lt": "<",
    "le": "≤",
    "gt": ">",
    "ge": "≥",
}
TARGET_LABELS: dict[str, str] = {
    "enterprise": N_("Enterprise"),
    "partner_type": N_("Partner type"),
    "tier": N_("Tier"),
    "role": N_("Partner role"),
}
ACCESS_LABELS: dict[str, str] = {"read": lazy.pgettext("permission", "View"), "write": N_("View and change")}
APP_LABELS: dict[str, str] = dict(PARTNER_APPS)
CHANNEL_LABELS: dict[str, str] = {"web": N_("Web portal"), "mobile": N_("Mobile app and mini-program")}

_TABLES: dict[str, Mapping[str, str]] = {
    "action": ACTION_LABELS,
    "kind": KIND_LABELS,
    "level": DATA_LEVEL_LABELS,
    "scope": SCOPE_LABELS,
    "field_access": FIELD_ACCESS_LABELS,
    "operator": OPERATOR_LABELS,
    "target": TARGET_LABELS,
    "access": ACCESS_LABELS,
    "app": APP_LABELS,
    "channel": CHANNEL_LABELS,
}


def roles_label(kind: str, code: str) -> str:
    """For templates: a stored code of the role pages in the page's language (the code if unknown)."""
    found = _TABLES[kind].get(code)
    return gettext(found) if found else code


def role_name(role: Role | None) -> str:
    """A role's name as shown: preset names (message ids) translated, the upstream's own as typed."""
    if role is None:
        return ""
    return gettext(role.name) if role.preset else role.name


def role_description(role: Role) -> str:
    if not role.description:
        return ""
    return gettext(role.description) if role.preset else role.description


def many(data: Mapping[str, Any], name: str) -> list[str]:
    """Every value a form sent under one name (checkboxes, multi-selects), blanks dropped."""
    value = data.get(name)
    if value is None:
        return []
    values = [value] if isinstance(value, str) else list(value)
    return [v.strip() for v in values if isinstance(v, str) and v.strip()]


def one(data: Mapping[str, Any], name: str) -> str:
    """A single form value (the last one if the name was sent several times), stripped."""
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return value.strip() if isinstance(value, str) else ""


def parts(name: str) -> tuple[str, str]:
    """The two parts of a grid field's name "<prefix>:<first>:<second>" (blank when missing)."""
    _prefix, first, second = [*name.split(":", 2), "", ""][:3]
    return first, second


def flat(data: Mapping[str, Any], names: Iterable[str]) -> dict[str, str]:
    return {name: one(data, name) for name in names}


def errors_of(error: ValidationFailed) -> dict[str, str]:
    """Field -> message; several messages for one field (a grid) are joined, not lost."""
    found: dict[str, list[str]] = {}
    for e in error.errors:
        text = gettext(e.message, **e.params)
        if text not in found.setdefault(e.field, []):
            found[e.field].append(text)
    return {f: "; ".join(messages) for f, messages in found.items()}


def audience_objects(objects: Mapping[str, ProtectedObject], kind: str) -> list[ProtectedObject]:
    """The objects a role of this kind is granted (partner objects for partner roles), in label order."""
    audience = "external" if kind == "external" else "internal"
    return sorted((o for o in objects.values() if o.audience == audience), key=lambda o: o.name)


def action_columns(objects: Sequence[ProtectedObject]) -> list[str]:
    """The actions of a grant grid: the standard ones in their order, then any others, then "all"."""
    used = {a for o in objects for a in o.actions}
    ordered = [a for a in STANDARD_ACTIONS if a in used]
    ordered += sorted(used - set(STANDARD_ACTIONS))
    return [*ordered, ANY]


def scoped_objects(objects: Mapping[str, ProtectedObject], audience: str) -> list[ProtectedObject]:
    """Objects with data permissions (a table of records with an owner and an enterprise)."""
    return sorted((o for o in objects.values() if o.model is not None and o.audience == audience), key=lambda o: o.name)


# Names of the columns sharing rules test that no object lists among its fields.
COLUMN_LABELS: dict[str, str] = {
    "id": N_("Record ID"),
    "owner_id": N_("Owner"),
    "enterprise_id": N_("Partner enterprise"),
    "created_by": N_("Created by"),
    "created_at": N_("Created at"),
    "updated_at": N_("Changed at"),
    "number": N_("Number"),
    "status": N_("Status"),
    "currency": N_("Currency"),
    "total": N_("Total"),
    "cost_total": N_("Cost total"),
    "warehouse_id": N_("Warehouse"),
    "stock_reserved": N_("Stock reserved"),
    "over_credit": N_("Over the credit limit"),
    "placed_by_kind": N_("Placed by staff or partner"),
    "submitted_at": N_("Submitted at"),
    "approved_at": N_("Approved at"),
    "shipped_at": N_("Shipped at"),
    "received_at": N_("Received at"),
    "completed_at": N_("Completed at"),
    "cancelled_at": N_("Cancelled at"),
    # service tickets and devices
    "type": N_("Type"),
    "priority": N_("Priority"),
    "device_id": N_("Device"),
    "product_id": N_("Product"),
    "product_name": N_("Product name"),
    "serial_number": N_("Serial number"),
    "region_id": N_("Region"),
    "dealer_id": N_("Dealer"),
    "engineer_id": N_("Engineer"),
    "engineer_name": N_("Engineer's name"),
    "opened_by": N_("Opened by"),
    "opened_by_kind": N_("Opened by staff or partner"),
    "reject_reason": N_("Why it was handed back"),
    "hold_reason": N_("Why it is on hold"),
    "cancel_reason": N_("Why it was cancelled"),
    "reopen_reason": N_("Why it was reopened"),
    "dispatched_at": N_("Dispatched at"),
    "accepted_at": N_("Accepted at"),
    "on_the_way_at": N_("On the way at"),
    "on_site_at": N_("On site at"),
    "held_at": N_("Put on hold at"),
    "resolved_at": N_("Resolved at"),
    "confirmed_at": N_("Confirmed at"),
    "closed_at": N_("Closed at"),
    "reopened_at": N_("Reopened at"),
    "contact_email": N_("Contact email"),
    "contact_name": N_("Contact name"),
    "contact_phone": N_("Contact phone"),
    "address": N_("Address"),
    "ticket_id": N_("Ticket"),
    "channel": N_("Opened through"),
    "rating": N_("Customer's rating"),
    "rating_comment": N_("Customer's comment"),
    "rated_at": N_("Rated at"),
    "response_minutes": N_("Response target (business minutes)"),
    "resolution_minutes": N_("Resolution target (business minutes)"),
    "response_due_at": N_("Response due"),
    "resolution_due_at": N_("Resolution due"),
    "response_breached": N_("Response target missed"),
    "resolution_breached": N_("Resolution target missed"),
    "pooled_at": N_("In the open pool since"),
    "unmatched_at": N_("No dispatch rule matched at"),
    # service settlements
    "period_start": N_("Period from"),
    "period_end": N_("Period until"),
    "approved_by": N_("Approved by"),
    # leads
    "source": N_("Source"),
    "pool_id": N_("Pool"),
    "holder_id": N_("Holder"),
    "assigned_at": N_("Assigned at"),
    "last_follow_up_at": N_("Last follow-up"),
    "follow_up_due": N_("Follow up by"),
    "convert_due": N_("Convert by"),
    "converted_at": N_("Converted at"),
    # deal registrations
    "account_id": N_("Customer account"),
    "contact_id": N_("Contact"),
    "lead_id": N_("Lead"),
    "registration": N_("Registration"),
    "protected_until": N_("Protected until"),
    "extension": N_("Extension"),
    "decided_at": N_("Decided at"),
    "decided_by": N_("Decided by"),
    "rejected_at": N_("Rejected at"),
    "note": N_("Note"),
    # purchase orders
    "purchase_order_id": N_("Purchase order"),
    "purchase_order_revision": N_("Purchase order revision"),
    "quantity": N_("Quantity"),
}


def object_columns(obj: ProtectedObject) -> list[tuple[str, str]]:
    """The columns of a data-scoped object a sharing rule may test, with their labels (message ids)."""
    if obj.model is None:
        return []
    labels = {**COLUMN_LABELS, **dict(obj.fields)}
    return [
        (c.name, labels.get(c.name, c.name))
        for c in obj.model.__table__.columns
        if c.name != "tenant_id" and not c.info.get("machinery")
    ]


async def roles_of_kind(db: AsyncSession, kind: str) -> list[Role]:
    return list(await db.scalars(select(Role).where(Role.kind == kind).order_by(Role.preset.desc(), Role.name)))


async def roles_by_key(db: AsyncSession) -> dict[str, Role]:
    return {r.key: r for r in await db.scalars(select(Role))}
