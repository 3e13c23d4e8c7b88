"""Registering a deal, and the upstream's decisions on registrations.

A partner's registration runs the duplicate check under the locks of its keys (`matching.lock`), so of
concurrent registrations of one customer the first is approved and protected and the others meet it:
    - another partner's protected registration of the same company (tax id or name): refused, naming
      the day the protection ends;
    - another partner's live registration met otherwise (a phone or an email, or one still in conflict),
      or an account the upstream owns: registered, flagged `conflict`, with what it met recorded
      (`DealMatch`) for the channel manager to decide;
    - nothing of another's: approved, protected for the programme's days.
The deal is linked to the account it met by its strongest key, or to a new account (and contact)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.agent.deals import Deals, clean
from apps.agent.models import Deal
from apps.agent.registrations import matching
from apps.agent.registrations.approvals import EXTENSION_KIND, KINDS, REGISTRATION_KIND
from apps.agent.registrations.matching import Found, Keys
from apps.agent.registrations.models import DealMatch, RegistrationSettings
from interconnect.models import EnterpriseLink
from portal import timezones
from portal.crm.accounts import checked_keys, text_of
from portal.crm.models import Account, Contact
from portal.db.types import utcnow
from portal.errors import Conflict, FieldError, NotFound, ValidationFailed
from portal.i18n import N_
from portal.identity.throttle import SignInGuard
from roles.approvals import ApprovalKinds, Approvals, Facts, open_request, withdraw

OUTCOMES = ("approve", "reject", "split")
# what a registration is made of besides the deal's own fields
CUSTOMER_FIELDS = ("tax_id", "phone", "email", "contact_name")
MAX_DAYS = 3650


# Hint requests one person may make in the guard's window: the form asks as one types (a few dozen for
# one registration); a script guessing keys stops here.
HINTS_PER_WINDOW = 200


# A protection ending within this many days is "about to expire": the partner's home shows it as a to-do,
# while an extension (asked once) can still be decided.
EXPIRING_DAYS = 14


def expiring_soon(now: datetime) -> ColumnElement[bool]:
    return (
        (Deal.registration == "approved")
        & (Deal.protected_until > now)
        & (Deal.protected_until <= now + timedelta(days=EXPIRING_DAYS))
    )


def _facts(deal: Deal) -> Facts:
    return Facts(deal.amount, deal.currency, deal.enterprise_id)


class CustomerProtected(Conflict):
    code, title = "customer_protected", N_("Another partner's registration protects this customer")


class RegistrationState(Conflict):
    code, title = "registration_state", N_("The registration's state does not allow this")


@dataclass(frozen=True)
class Customer:
    """The customer's keys as typed, checked."""

    tax_id: str | None
    phone: str | None
    email: str | None
    contact_name: str | None


def customer_values(values: Mapping[str, Any]) -> Customer:
    """The customer's keys as the CRM checks them (portal.crm.accounts), and the contact's name."""
    errors: list[FieldError] = []
    tax_id, phone, email = checked_keys(errors, values)
    contact = text_of(errors, values, "contact_name", 100)
    if errors:
        raise ValidationFailed(errors)
    return Customer(tax_id, phone, email, contact)


class Registrations:
    """Registrations as `deals` (one side's deals: the actor's scope and field rules) reach them."""

    def __init__(self, session: AsyncSession, deals: Deals) -> None:
        self.session = session
        self.deals = deals
        self.actor = deals.actor

    # --- the programme's setting ---

    async def settings(self) -> RegistrationSettings:
        found = await self.session.scalar(select(RegistrationSettings))
        return found or RegistrationSettings(protection_days=90, extension_days=30)

    async def save_settings(self, protection_days: int, extension_days: int) -> RegistrationSettings:
        for name, days in (("protection_days", protection_days), ("extension_days", extension_days)):
            if not 1 <= days <= MAX_DAYS:
                raise ValidationFailed.single(
                    name, N_("must be between %(low)s and %(high)s"), "out_of_range", low=1, high=MAX_DAYS
                )
        found = await self.session.scalar(select(RegistrationSettings))
        if found is None:
            found = RegistrationSettings()
            self.session.add(found)
        found.protection_days, found.extension_days = protection_days, extension_days
        await self.session.flush()
        return found

    # --- the check while typing ---

    async def hints(
        self, guard: SignInGuard, name: str | None, tax_id: str | None, phone: str | None, email: str | None
    ) -> list[dict[str, Any]]:
        """What the customer typed so far meets: each account with the keys it shares and whether it is
        another partner's protected customer (until when), in conflict, or the upstream's own. Never
        which partner, nor the name of a customer met only by its tax id, phone or email. Counted per
        person in the sign-in guard's window (HINTS_PER_WINDOW): a script trying phone numbers one after
        another would otherwise learn which are customers, and whose protection ends when."""
        await guard.count_requests([(f"agent-hints:{self.actor.tenant_id}:{self.actor.user_id}", HINTS_PER_WINDOW)])
        keys = Keys.of(name, tax_id, phone, email)
        now = utcnow()
        hints = []
        for found in await matching.find(self.session, keys, now):
            others = [d for d in found.registrations if d.enterprise_id != self.actor.enterprise_id]
            protected = [d.protected_until for d in others if d.registration == "approved" and d.protected_until]
            yours = any(d.enterprise_id == self.actor.enterprise_id for d in found.registrations)
            hints.append(
                {
                    # a name the partner did not type (met by tax id, phone or email) is not told
                    "account_name": found.account.name if yours or "name" in found.keys else None,
                    "keys": found.keys,
                    "protected_until": max(protected) if protected else None,
                    "blocking": bool(protected) and found.strong,
                    "in_conflict": any(d.registration == "conflict" for d in others),
                    "upstream_account": found.account.enterprise_id is None,
                    "yours": yours,
                }
            )
        return hints

    # --- registering ---

    async def register(
        self, values: Mapping[str, Any], *, lead_id: uuid.UUID | None = None, enterprise_id: uuid.UUID | None = None
    ) -> Deal:
        """A partner's registration for its enterprise (`enterprise_id`: a converted lead's holder)."""
        enterprise_id = enterprise_id or self.actor.enterprise_id
        if enterprise_id is None:
            raise NotFound(N_("Only a partner enterprise registers deals"))
        deal_values = {k: v for k, v in values.items() if k not in CUSTOMER_FIELDS}
        customer = customer_values(values)
        if customer.contact_name and "customer_contact" not in deal_values:
            deal_values["customer_contact"] = customer.contact_name
        self.deals.check_fields(deal_values)
        given = clean(deal_values)
        name = given.get("customer_name")
        keys = Keys.of(name, customer.tax_id, customer.phone, customer.email)
        if name and keys.name is None:
            raise ValidationFailed.single("customer_name", N_("must name the company, not only its legal form"))
        deal = await self.deals.create(deal_values, owner_id=self.actor.user_id, enterprise_id=enterprise_id)
        await matching.lock(self.session, keys)
        now = utcnow()
        found = await matching.find(self.session, keys, now)
        self._refuse_protected(found, enterprise_id)
        met = self._conflicts(found, enterprise_id)
        account = await self._account(found, name or "", customer, enterprise_id, lead_id)
        deal.account_id, deal.lead_id = account.id, lead_id
        if customer.contact_name:
            contact = Contact(
                account_id=account.id,
                name=customer.contact_name,
                phone=customer.phone,
                email=customer.email,
                lead_id=lead_id,
            )
            self.session.add(contact)
            await self.session.flush()
            deal.contact_id = contact.id
        if met:
            deal.registration = "conflict"
            self.session.add_all(
                DealMatch(deal_id=deal.id, other_deal_id=other, account_id=account_id, key=key)
                for other, account_id, key in met
            )
            # the channel manager's decision goes through the approvals engine (its flow, its queue)
            await open_request(self.session, self.actor, REGISTRATION_KIND, deal.id, deal.customer_name, _facts(deal))
        else:
            deal.registration = "approved"
            deal.protected_until = now + timedelta(days=(await self.settings()).protection_days)
        await self.session.flush()
        return deal

    def _refuse_protected(self, found: list[Found], enterprise_id: uuid.UUID) -> None:
        ends = [
            d.protected_until
            for f in found
            if f.strong
            for d in f.registrations
            if d.enterprise_id != enterprise_id and d.registration == "approved" and d.protected_until
        ]
        if ends:
            until = timezones.moment_text(max(ends), self.actor.time_zone)
            raise CustomerProtected(
                N_("Another partner registered this customer; the registration protects it until %(until)s"),
                until=until,
            )

    @staticmethod
    def _conflicts(found: list[Found], enterprise_id: uuid.UUID) -> list[tuple[uuid.UUID | None, uuid.UUID, str]]:
        met: list[tuple[uuid.UUID | None, uuid.UUID, str]] = []
        for f in found:
            key = f.keys[0] if f.keys else "name"
            if f.account.enterprise_id is None:
                met.append((None, f.account.id, key))
            met.extend((d.id, f.account.id, key) for d in f.registrations if d.enterprise_id != enterprise_id)
        return met

    async def _account(
        self, found: list[Found], name: str, customer: Customer, enterprise_id: uuid.UUID, lead_id: uuid.UUID | None
    ) -> Account:
        strong = [f.account for f in found if f.strong]
        if strong:
            return strong[0]
        account = Account(
            name=name,
            kind="customer",
            tax_id=customer.tax_id,
            phone=customer.phone,
            email=customer.email,
            enterprise_id=enterprise_id,
            lead_id=lead_id,
        )
        self.session.add(account)
        await self.session.flush()
        return account

    # --- the partner's request, the upstream's decisions ---

    async def request_extension(self, deal_id: uuid.UUID) -> Deal:
        deal = await self._locked(deal_id)
        if deal.registration != "approved" or deal.protected_until is None or deal.protected_until <= utcnow():
            raise RegistrationState(N_("Only a registration still protected is extended"))
        if deal.extension is not None:
            raise RegistrationState(N_("A registration's protection is extended once"))
        deal.extension = "pending"
        await self.session.flush()
        await open_request(self.session, self.actor, EXTENSION_KIND, deal.id, deal.customer_name, _facts(deal))
        return deal

    def _engine(self) -> Approvals:
        return Approvals(self.session, self.deals.policy, self.actor, ApprovalKinds(KINDS))

    async def extension_waiting(self, deal_id: uuid.UUID) -> Deal:
        """A deal whose extension waits for a decision, locked."""
        deal = await self._locked(deal_id)
        if deal.extension != "pending":
            raise RegistrationState(N_("No extension of this registration is waiting for a decision"))
        return deal

    async def decide_extension(self, deal_id: uuid.UUID, approve: bool) -> Deal:
        """Take the extension request's current step (roles.approvals); its last step settles it."""
        deal = await self.extension_waiting(deal_id)
        state = {"deal": deal, "registrations": self}
        outcome = "approve" if approve else "reject"
        if await self._engine().decide_subject(EXTENSION_KIND, deal.id, outcome, None, state=state) is None:
            await self.settle_extension(deal, approve)
        return deal

    async def settle_extension(self, deal: Deal, approve: bool) -> None:
        deal.extension = "approved" if approve else "rejected"
        if approve and deal.protected_until is not None:
            deal.protected_until += timedelta(days=(await self.settings()).extension_days)
        deal.decided_by, deal.decided_at = self.actor.user_id, utcnow()
        await self.session.flush()

    async def conflicted(self, deal_id: uuid.UUID) -> Deal:
        """A registration in conflict, locked."""
        deal = await self._locked(deal_id)  # first: another's record is not found, whatever was sent
        if deal.registration != "conflict":
            raise RegistrationState(N_("Only a registration in conflict is decided"))
        return deal

    async def decide(self, deal_id: uuid.UUID, outcome: str) -> Deal:
        """Take the registration's current approval step (roles.approvals); the last step settles it:
        approve: this registration is protected, those it met lose theirs (or are rejected while in
        conflict); reject: it is not; split: it is protected beside the others, which keep theirs."""
        await self._locked(deal_id)  # first: another's record is not found, whatever was sent
        if outcome not in OUTCOMES:
            raise ValidationFailed.single(
                "outcome", N_("must be one of %(choices)s"), "invalid", choices=", ".join(OUTCOMES)
            )
        deal = await self.conflicted(deal_id)
        state = {"deal": deal, "registrations": self}
        engine = self._engine()
        if outcome == "reject":
            decided = await engine.decide_subject(REGISTRATION_KIND, deal.id, "reject", None, state=state)
        else:
            decided = await engine.decide_subject(REGISTRATION_KIND, deal.id, "approve", None, outcome, state=state)
        if decided is None:
            await self.settle(deal, outcome)
        return deal

    async def settle(self, deal: Deal, outcome: str) -> None:
        now = utcnow()
        deal.decided_by, deal.decided_at = self.actor.user_id, now
        if outcome == "reject":
            deal.registration = "rejected"
        else:
            deal.registration = "approved"
            deal.protected_until = now + timedelta(days=(await self.settings()).protection_days)
        if outcome == "approve":
            others = select(DealMatch.other_deal_id).where(
                DealMatch.deal_id == deal.id, DealMatch.other_deal_id.is_not(None)
            )
            settled: list[uuid.UUID] = []
            for other in await self.session.scalars(
                select(Deal).where(Deal.id.in_(others)).with_for_update().execution_options(populate_existing=True)
            ):
                if other.registration == "conflict":
                    other.registration, other.decided_by, other.decided_at = "rejected", self.actor.user_id, now
                    settled.append(other.id)
                elif other.protected_until is not None and other.protected_until > now:
                    other.protected_until = now
            # their own requests end with them: nothing is left to decide
            await withdraw(self.session, REGISTRATION_KIND, settled)
        await self.session.flush()

    async def _locked(self, deal_id: uuid.UUID) -> Deal:
        """A deal the actor may change (not found or refused otherwise), locked for the transaction."""
        await self.deals.writable(deal_id)
        deal = await self.session.scalar(
            select(Deal).where(Deal.id == deal_id).with_for_update().execution_options(populate_existing=True)
        )
        if deal is None:
            raise NotFound(N_("No such deal"))
        return deal

    # --- the conflict queue ---

    async def conflicts(self, limit: int = 100) -> list[dict[str, Any]]:
        """The registrations in conflict the actor may read, oldest first, each beside what it met."""
        query = (await self.deals.query()).where(Deal.registration == "conflict")
        rows = list(await self.session.scalars(query.order_by(Deal.created_at, Deal.id).limit(limit)))
        if not rows:
            return []
        matches = list(
            await self.session.execute(
                select(DealMatch, Account)
                .join(Account, Account.id == DealMatch.account_id)
                .where(DealMatch.deal_id.in_([d.id for d in rows]))
            )
        )
        other_ids = {m.other_deal_id for m, _a in matches if m.other_deal_id}
        others = {d.id: d for d in await self.session.scalars(select(Deal).where(Deal.id.in_(other_ids)))}
        names = await self.enterprise_names([*rows, *others.values()])
        queue = []
        for deal in rows:
            met = []
            for match, account in matches:
                if match.deal_id != deal.id:
                    continue
                other = others.get(match.other_deal_id) if match.other_deal_id else None
                met.append(
                    {
                        "key": match.key,
                        "account_id": account.id,
                        "account_name": account.name,
                        "upstream_account": other is None,
                        "deal": self.side(other, names) if other else None,
                    }
                )
            queue.append({"registration": self.side(deal, names), "matches": met})
        return queue

    async def enterprise_names(self, deals: list[Deal]) -> dict[uuid.UUID, str]:
        ids = {d.enterprise_id for d in deals if d.enterprise_id}
        if not ids:
            return {}
        rows = await self.session.execute(
            select(EnterpriseLink.id, EnterpriseLink.name).where(EnterpriseLink.id.in_(ids))
        )
        return {link_id: name for link_id, name in rows}

    def side(self, deal: Deal, names: Mapping[uuid.UUID, str]) -> dict[str, Any]:
        return {
            **self.out(deal),
            "enterprise_name": names.get(deal.enterprise_id) if deal.enterprise_id else None,
        }

    def out(self, deal: Deal) -> dict[str, Any]:
        """The deal as its side may see it, with its registration."""
        return {
            **self.deals.out(deal),
            "account_id": deal.account_id,
            "contact_id": deal.contact_id,
            "lead_id": deal.lead_id,
            "registration": deal.registration,
            "protected_until": deal.protected_until,
            "extension": deal.extension,
        }

    async def page(self, limit: int = 50, offset: int = 0, *, expiring: bool = False) -> tuple[list[Deal], int]:
        """The registrations the actor may read, newest first, and how many there are; `expiring`: only the
        protected ones whose protection ends within EXPIRING_DAYS, the soonest first."""
        query = (await self.deals.query()).where(Deal.registration.is_not(None))
        if expiring:
            query = query.where(expiring_soon(utcnow()))
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        order = (Deal.protected_until, Deal.id) if expiring else (Deal.created_at.desc(), Deal.id.desc())
        rows = await self.session.scalars(query.order_by(*order).limit(limit).offset(offset))
        return list(rows), total

    async def pending_extensions(self, limit: int = 100) -> list[Deal]:
        """Extensions waiting for the upstream, the protection ending soonest first."""
        query = (await self.deals.query()).where(Deal.extension == "pending")
        return list(await self.session.scalars(query.order_by(Deal.protected_until, Deal.id).limit(limit)))
