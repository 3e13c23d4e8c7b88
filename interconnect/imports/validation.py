"""Validating the rows against the programme and each other (codes, formats, duplicates, parents, quota):
a plan per row, to create, to skip (it exists already) or in error."""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect import quotas
from interconnect.imports.errors import _error
from interconnect.imports.reading import Row
from interconnect.models import EnterpriseLink, ExternalIdentity, Membership, PartnerTier, PartnerType, Region
from interconnect.people import NewPerson, normalise_mobile
from portal.errors import ValidationFailed
from portal.http.inputs import text_error
from portal.i18n import N_
from portal.identity.accounts import normalise_email


@dataclass
class _Plan:
    number: int
    action: str  # create | skip | error
    name: str = ""
    code: str | None = None
    partner_type_id: uuid.UUID | None = None
    tier_id: uuid.UUID | None = None
    region_id: uuid.UUID | None = None
    contact_phone: str | None = None
    parent_code: str | None = None
    parent_id: uuid.UUID | None = None  # an enterprise that exists already
    admin: NewPerson | None = None
    login: str = ""  # the admin's email or mobile


def _chunks(values: Iterable[str], size: int = 500) -> Iterator[list[str]]:
    items = list(dict.fromkeys(values))
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Lookups:
    """Everything rows are checked against, read in a few batched queries."""

    def __init__(self) -> None:
        self.types: dict[str, PartnerType] = {}
        self.tiers: dict[str, uuid.UUID] = {}
        self.regions: dict[str, uuid.UUID] = {}
        self.by_code: dict[str, tuple[uuid.UUID, str]] = {}  # code → (id, status)
        self.names: set[str] = set()
        self.members: set[str] = set()  # emails and mobiles already connected to this programme

    @classmethod
    async def load(cls, session: AsyncSession, rows: list[Row]) -> _Lookups:
        found = cls()
        found.types = {t.code.lower(): t for t in await session.scalars(select(PartnerType))}
        found.tiers = {t.code.lower(): t.id for t in await session.scalars(select(PartnerTier))}
        found.regions = {r.code.lower(): r.id for r in await session.scalars(select(Region))}
        codes = [v for r in rows for v in (r.values["code"], r.values["parent_code"]) if v]
        for chunk in _chunks(codes):
            result = await session.execute(
                select(EnterpriseLink.code, EnterpriseLink.id, EnterpriseLink.status).where(
                    EnterpriseLink.code.in_(chunk)
                )
            )
            found.by_code.update({code: (link_id, status) for code, link_id, status in result.all()})
        names = [r.values["name"] for r in rows if r.values["name"] and not r.values["code"]]
        for chunk in _chunks(names):
            found.names.update(await session.scalars(select(EnterpriseLink.name).where(EnterpriseLink.name.in_(chunk))))
        emails = [r.values["admin_email"].lower() for r in rows if r.values["admin_email"]]
        mobiles = [re.sub(r"[\s-]", "", r.values["admin_mobile"]) for r in rows if r.values["admin_mobile"]]
        for column, values in ((ExternalIdentity.email, emails), (ExternalIdentity.mobile, mobiles)):
            for chunk in _chunks(values):
                result = await session.execute(
                    select(ExternalIdentity.email, ExternalIdentity.mobile)
                    .join(Membership, Membership.identity_id == ExternalIdentity.id)
                    .where(column.in_(chunk))
                )
                for email, mobile in result.all():
                    found.members.update(v for v in (email, mobile) if v)
        return found


def _check_row(row: Row, lookups: _Lookups, errors: list[dict[str, Any]]) -> _Plan:
    v = row.values
    n = row.number
    before = len(errors)

    def fail(column: str, message: str, code: str = "invalid", /, **params: Any) -> None:
        errors.append(_error(n, column, message, code, params))

    for column, value in v.items():  # a file is input like any form: the same text rules
        if isinstance(value, str) and (refused := text_error(column, value)):
            fail(column, refused.message, refused.code)
    if len(errors) > before:
        return _Plan(n, "error", name=v["name"])
    code = v["code"] or None
    if code and code in lookups.by_code:
        return _Plan(n, "skip", code=code)
    if not code and v["name"] and v["name"] in lookups.names:
        return _Plan(n, "skip", name=v["name"])
    plan = _Plan(n, "create", name=v["name"], code=code, contact_phone=v["contact_phone"] or None)
    if not v["name"]:
        fail("name", N_("is required"), "required")
    elif len(v["name"]) > 200:
        fail("name", N_("must be at most %(max)s characters"), "too_long", max=200)
    if code and len(code) > 60:
        fail("code", N_("must be at most %(max)s characters"), "too_long", max=60)
    if plan.contact_phone and len(plan.contact_phone) > 40:
        fail("contact_phone", N_("must be at most %(max)s characters"), "too_long", max=40)
    partner_type = lookups.types.get(v["partner_type"].lower())
    if not v["partner_type"]:
        fail("partner_type", N_("is required"), "required")
    elif partner_type is None or not partner_type.active:
        fail(
            "partner_type",
            N_("is not an active partner type of this programme: %(code)s (known: %(known)s)"),
            "unknown",
            code=v["partner_type"],
            known=", ".join(sorted(c for c, t in lookups.types.items() if t.active)),
        )
    else:
        plan.partner_type_id = partner_type.id
    for column, table in (("tier", lookups.tiers), ("region", lookups.regions)):
        if v[column]:
            if v[column].lower() not in table:
                fail(column, N_("is not a known code: %(code)s"), "unknown", code=v[column])
            elif column == "tier":
                plan.tier_id = table[v[column].lower()]
            else:
                plan.region_id = table[v[column].lower()]
    if v["parent_code"]:
        plan.parent_code = v["parent_code"]
        existing = lookups.by_code.get(v["parent_code"])
        if existing is not None:
            if existing[1] == "terminated":
                fail("parent_code", N_("is a terminated enterprise: %(code)s"), "terminated", code=v["parent_code"])
            plan.parent_id = existing[0]
    admin_name, email, mobile = v["admin_name"], v["admin_email"], v["admin_mobile"]
    if admin_name or email or mobile:
        if not admin_name:
            fail("admin_name", N_("is required when an admin email or mobile is given"), "required")
        elif len(admin_name) > 200:
            fail("admin_name", N_("must be at most %(max)s characters"), "too_long", max=200)
        if not email and not mobile:
            fail("admin_email", N_("an email or a mobile number is required for the admin"), "required")
        if email:
            try:
                email = normalise_email(email)
            except ValidationFailed:
                fail("admin_email", N_("is not a valid email address: %(value)s"), "invalid", value=email)
        if mobile:
            try:
                mobile = normalise_mobile(mobile) or ""
            except ValidationFailed:
                fail("admin_mobile", N_("is not a valid mobile number: %(value)s"), "invalid", value=mobile)
        for column, value in (("admin_email", email), ("admin_mobile", mobile)):
            if value and value in lookups.members:
                fail(column, N_("belongs to a person already connected to this programme"), "already_member")
        plan.admin = NewPerson(admin_name, email or None, mobile or None)
        plan.login = email or mobile
    if len(errors) > before:
        plan.action = "error"
    return plan


def _add_error(
    errors: list[dict[str, Any]], number: int, column: str, message: str, code: str, /, **params: Any
) -> None:
    errors.append(_error(number, column, message, code, params))


def _check_file(rows: list[Row], lookups: _Lookups, errors: list[dict[str, Any]]) -> list[_Plan]:
    """Every row on its own, then across rows: duplicates within the file and parents."""
    plans = [_check_row(row, lookups, errors) for row in rows]
    first_row_of: dict[str, int] = {}
    for plan in plans:
        if plan.code:
            first_row_of.setdefault(plan.code, plan.number)
    by_code: dict[str, _Plan] = {}  # the rows above the current one
    by_name: dict[str, _Plan] = {}
    by_login: dict[str, _Plan] = {}
    for plan in plans:
        if plan.code:
            by_code.setdefault(plan.code, plan)
        if plan.action == "skip":
            continue
        problems: list[dict[str, Any]] = []
        fail = functools.partial(_add_error, problems, plan.number)
        if plan.code and by_code[plan.code] is not plan:
            fail("code", N_("repeats the code of row %(row)s"), "duplicate", row=by_code[plan.code].number)
        if not plan.code and plan.name and by_name.setdefault(plan.name, plan) is not plan:
            first = by_name[plan.name].number
            fail(
                "name", N_("repeats row %(row)s (a row without a code is matched by its name)"), "duplicate", row=first
            )
        if plan.admin is not None:
            for column, value in (("admin_email", plan.admin.email), ("admin_mobile", plan.admin.mobile)):
                if value and by_login.setdefault(value, plan) is not plan:
                    message = N_("is the admin of row %(row)s too; a person can be the admin of one enterprise only")
                    fail(column, message, "duplicate", row=by_login[value].number)
        if plan.parent_code and plan.parent_id is None:
            parent = by_code.get(plan.parent_code) if plan.parent_code != plan.code else None
            below = first_row_of.get(plan.parent_code, 0)
            if plan.parent_code == plan.code:
                fail("parent_code", N_("is the enterprise's own code"), "invalid")
            elif parent is None and below > plan.number:
                message = N_("refers to row %(row)s below; list a parent enterprise above the enterprises under it")
                fail("parent_code", message, "order", row=below)
            elif parent is None:
                fail("parent_code", N_("is not the code of an enterprise: %(code)s"), "unknown", code=plan.parent_code)
            elif parent.action == "error":
                fail("parent_code", N_("refers to row %(row)s, which has errors"), "parent_invalid", row=parent.number)
        if problems:
            errors.extend(problems)
            plan.action = "error"
    return plans


def _check_quota(plans: list[_Plan], usage: quotas.Usage, errors: list[dict[str, Any]]) -> None:
    """All or nothing: the rows past what the quota leaves (in file order) are errors of their own."""
    enterprises, users = usage.enterprises_used, usage.external_users_used
    for plan in plans:
        if plan.action != "create":
            continue
        if enterprises + 1 > usage.max_enterprises:
            message, limit = N_("would pass the quota of %(max)s partner enterprises"), usage.max_enterprises
        elif plan.admin is not None and users + 1 > usage.max_external_users:
            message, limit = N_("would pass the quota of %(max)s external users"), usage.max_external_users
        else:
            enterprises += 1
            users += 1 if plan.admin is not None else 0
            continue
        errors.append(_error(plan.number, "quota", message, "quota_exceeded", {"max": limit}))
        plan.action = "error"
