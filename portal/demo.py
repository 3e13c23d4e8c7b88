"""Demo data: two manufacturers with staff, so a newcomer can sign in and click around at once.
Components add their own part (partners, catalogs, orders) through their `demo` step. Re-running is
safe: what exists is left as it is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from portal.calendars.demo import add_demo_holidays
from portal.components import load_components
from portal.db.context import PUBLIC, tenant_context
from portal.identity.accounts import NewStaff, SignUp
from portal.identity.models import InternalUser, Tenant
from portal.services import Services

DEMO_PASSWORD = "demo-password-2026"


@dataclass(frozen=True)
class DemoTenant:
    name: str
    slug: str
    admin: tuple[str, str]
    staff: tuple[tuple[str, str, tuple[str, ...]], ...]  # (name, email, role keys)
    locale: str


DEMO_TENANTS = (
    DemoTenant(
        "Acme Pumps",
        "acme-pumps",
        ("Ann Admin", "ann@acme-pumps.example"),
        (
            ("Oscar Orders", "oscar@acme-pumps.example", ("staff",)),
            # the preset channel manager (roles/presets.py): the conflict queue, leads and commissions are his
            ("Chen Channel", "chen@acme-pumps.example", ("staff", "channel_manager")),
        ),
        "en",
    ),
    DemoTenant(
        "北辰阀门 Borealis Valves",
        "borealis-valves",
        ("王丽", "wang.li@borealis.example"),
        (("刘洋", "liu.yang@borealis.example", ("staff",)),),
        "zh_CN",
    ),
)


async def load_demo(services: Services) -> list[dict[str, str]]:
    """Create what is missing and return the logins to print."""
    logins: list[dict[str, str]] = []
    context: dict[str, Any] = {"tenants": {}, "logins": logins}
    for demo in DEMO_TENANTS:
        async with services.db.session(PUBLIC) as session:
            tenant = await session.scalar(select(Tenant).where(Tenant.slug == demo.slug))
            if tenant is None:
                tenant, _admin = await services.accounts.sign_up(
                    session,
                    SignUp(demo.name, demo.slug, demo.admin[0], demo.admin[1], DEMO_PASSWORD, demo.locale),
                    "cli",
                )
        async with services.db.session(tenant_context(tenant.id, channel="cli")) as session:
            staff = services.staff(session)
            for name, email, roles in demo.staff:
                if await session.scalar(select(InternalUser.id).where(InternalUser.email == email)) is None:
                    await staff.create(NewStaff(email, name, DEMO_PASSWORD, roles, demo.locale))
            await add_demo_holidays(session, demo.slug)
        context["tenants"][demo.slug] = tenant.id
        logins.append(
            {
                "workspace": demo.slug,
                "email": demo.admin[1],
                "password": DEMO_PASSWORD,
                "role": "admin",
                "tenant": demo.name,
            }
        )
        logins.extend(
            {"workspace": demo.slug, "email": email, "password": DEMO_PASSWORD, "role": "staff", "tenant": demo.name}
            for _name, email, _roles in demo.staff
        )
    for component in load_components():
        if component.demo is not None:
            await component.demo(services, context)
    return logins
