"""Console page: why may this person do this, see this field, see or change this record.

The page asks `roles.explain` (the same rules the SQL scopes are tested against) and shows each action
with the roles granting it, each field's access, and every reason a record is readable or writable."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Template
from sqlalchemy import select

from interconnect.models import EnterpriseLink, Membership
from portal.errors import DomainError
from portal.http.deps import DB, CurrentActor, ServicesDep, StaffDep
from portal.i18n import N_
from portal.permissions import requires
from portal.ui.refusals import message_of
from roles.access import policy_of
from roles.explain import Explanation, explain

CHOICES = 500

REASONS = {
    "owner": N_("They own the record"),
    "enterprise": N_("It belongs to their enterprise (level: %(level)s)"),
    "sub_enterprise": N_("It belongs to an enterprise under theirs (level: %(level)s)"),
    "public": N_("Partners' records are open to them (level: %(level)s)"),
    "external_team": N_("They are on the record's team (%(access)s)"),
    "sharing_rule": N_("Sharing rule \u201c%(name)s\u201d (%(access)s)"),
    "staff_own": N_("Their role %(role)s: their own records"),
    "staff_team": N_("Their role %(role)s: their team's records"),
    "staff_region": N_("Their role %(role)s: their team's regions"),
    "staff_all": N_("Their role %(role)s: all records"),
}


def _id(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@get("/console/roles/explain", opt=requires("roles", "read"), include_in_schema=False)
async def explain_page(
    request: Request[Any, Any, Any],
    db: DB,
    actor: CurrentActor,
    services: ServicesDep,
    staff: StaffDep,
    user_id: FromQuery[str | None] = None,
    object: FromQuery[str | None] = None,
    record_id: FromQuery[str | None] = None,
) -> Template:
    users, _total = await staff.list(limit=CHOICES)
    people = (
        await db.execute(
            select(Membership.id, Membership.display_name, EnterpriseLink.name)
            .outerjoin(EnterpriseLink, EnterpriseLink.id == Membership.link_id)
            .order_by(EnterpriseLink.name, Membership.display_name)
            .limit(CHOICES)
        )
    ).all()
    form = {"user_id": user_id or "", "object": object or "", "record_id": record_id or ""}
    found: Explanation | None = None
    error = ""
    if user_id and object:
        policy = policy_of(request)
        person, record = _id(user_id), _id(record_id)
        if person is None or (record_id and record is None):
            error = message_of(DomainError(N_("Choose a person, and give a record's id as it appears in its address")))
        else:
            try:
                found = await explain(db, policy, policy.current(actor.tenant_id), person, object, record)
            except DomainError as exc:
                error = message_of(exc)
    context: dict[str, Any] = {
        "staff": users,
        "people": people,
        # an integration key's objects are granted to no role: nothing to explain
        "objects": sorted((o for o in services.objects.values() if o.audience != "integration"), key=lambda o: o.name),
        "form": form,
        "found": found,
        "error": error,
        "reasons": REASONS,
        "section": "explain",
    }
    return Template("console/roles/explain.html", context=context)
