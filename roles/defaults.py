"""New partner people get their default roles in the same flush that adds them, whatever the path
(invitation, direct creation, a colleague added by their enterprise admin, a spreadsheet import): the
role template of their enterprise's partner type names the defaults for members and for admins.
People without an enterprise (individuals) get the plain member role."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from interconnect.models import EnterpriseLink, Membership
from portal.db.tenancy import TenantSession
from portal.ids import uuid7
from roles.casbin_model import ROLE_PREFIX
from roles.models import PolicyRule, Role, RoleTemplate
from roles.policy import user_subject
from roles.presets import MEMBER


def _default_roles(session: Session, membership: Membership) -> list[str]:
    if membership.link_id is None:
        return [MEMBER]
    flag = RoleTemplate.admin_default if membership.is_enterprise_admin else RoleTemplate.member_default
    found = session.execute(
        select(Role.key)
        .join(RoleTemplate, (RoleTemplate.tenant_id == Role.tenant_id) & (RoleTemplate.role_id == Role.id))
        .join(
            EnterpriseLink,
            (EnterpriseLink.tenant_id == RoleTemplate.tenant_id)
            & (EnterpriseLink.partner_type_id == RoleTemplate.partner_type_id),
        )
        .where(EnterpriseLink.id == membership.link_id, flag.is_(True))
    )
    return [key for (key,) in found]


@event.listens_for(TenantSession, "before_flush", insert=True)  # before tenant stamping sees the new rows
def _assign_defaults(session: Session, _context: Any, _instances: Any) -> None:
    joined = [obj for obj in session.new if isinstance(obj, Membership)]
    if not joined:
        return
    with session.no_autoflush:
        for membership in joined:
            if membership.id is None:
                membership.id = uuid7()
            for key in _default_roles(session, membership):
                session.add(PolicyRule(ptype="g", v0=user_subject(membership.id), v1=ROLE_PREFIX + key, v2=""))
