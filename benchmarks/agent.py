"""The agent app at scale on PostgreSQL: the duplicate check a registration runs, the recycling job over
a million leads, and claims from a pool by sixteen partners at once, printed side by side with their goals.

    .venv/bin/python -m benchmarks.agent [--only dup,recycle,claims] [--accounts 1000000] [--checks 500]
        [--leads 1000000] [--due 2000] [--pool 2000] [--seconds 60]
        [--url postgresql://postgres@127.0.0.1:5432/postgres] [--keep]

Creates a scratch database (dropped at the end unless --keep), runs the migrations and signs one
manufacturer up through the API in process, then writes eight active partner enterprises with two people
each, a pool whose rules recycle (14 days to follow up, 90 to convert, notice 2 days before) and a pool to
claim from (an enterprise holds at most 90 of its leads, a person 60, and claims 50 a day). Every part
runs through a login that is only a member of the application's roles (row-level security on).

- dup: PostgreSQL writes --accounts customer accounts (generate_series: a name with a legal form, its
  folded key, a tax id, a phone in E.164 and an email) and a registration (an approved, protected deal) on
  every tenth, and VACUUM ANALYZE. Timed: --checks duplicate checks as a registration runs them
  (apps.agent.registrations.matching: the advisory locks of the keys in one statement, then the accounts the
  keys meet with the live registrations on them in another), each in its own open transaction, as a
  registration runs it after writing its deal; the keys are a random account's name typed otherwise, its
  tax id, phone and email, every fifth check a customer nobody has. Goal: median 5 ms or less.
- recycle: PostgreSQL writes --leads leads: --due of them due (half for their notice, half back to the
  pool, held by the partners' people), of the others a tenth converted, a tenth pooled, the rest held with
  their deadlines days ahead; VACUUM ANALYZE. The job's read of the due leads is shown with EXPLAIN
  (ANALYZE, BUFFERS) (rolled back) and must be an index scan (asserted: no Seq Scan on agent_leads); then
  one run of the job (apps.agent.leads.recycling) is timed, with the statements it sent. Goal: 10 s or less.
- claims: --pool leads pooled; sixteen claimers (asyncio tasks, one per person) each repeat, in a
  transaction of their own through `Leads` as the API's handler uses it: read the pool's first page, claim
  one lead of it; until the pool is empty, a limit refuses them, or --seconds pass. Then the tables are
  checked: no lead claimed twice, none lost (claimed + still pooled = the pool), no one over a limit.

Measured on the 2-core development machine with other work beside it: see docs/agent.md."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from apps.agent.leads import recycling
from apps.agent.leads.models import Lead, LeadEvent
from apps.agent.leads.service import LeadLimitReached, Leads, LeadTaken
from apps.agent.objects import PARTNER_LEAD
from apps.agent.registrations import matching
from apps.agent.registrations.matching import Keys
from benchmarks.support import scratch_database, serving_login
from portal.actor import Actor
from portal.config import Settings, normalise_database_url
from portal.db import migrate
from portal.db.context import actor_context, tenant_context
from portal.db.engine import Database
from portal.db.types import utcnow
from portal.http.app import create_app
from portal.identity.models import Tenant
from portal.notifications.models import Notification
from roles.access import role_policy

SECRET = "benchmark-secret-key-of-enough-length-0123456789abcdef"

ACCOUNTS = """
INSERT INTO crm_accounts (tenant_id, id, name, kind, name_key, tax_id, phone, email, created_at, updated_at)
SELECT :t, gen_random_uuid(), 'Customer ' || n || ' Co., Ltd.', 'customer', 'customer' || n,
    '91310000' || lpad(n::text, 10, '0'), '+86139' || lpad(n::text, 8, '0'), 'buyer' || n || '@customer.example',
    now(), now()
FROM generate_series(1, :n) AS n
"""
REGISTRATIONS = """
INSERT INTO agent_deals (tenant_id, id, owner_id, enterprise_id, customer_name, amount, currency, stage,
    created_by, account_id, registration, protected_until, created_at, updated_at)
SELECT a.tenant_id, gen_random_uuid(), :u, NULL, a.name, 1000, 'CNY', 'registered', :u, a.id, 'approved',
    now() + interval '90 days', now(), now()
FROM crm_accounts a WHERE a.tenant_id = :t AND a.kind = 'customer' AND substr(a.name_key, 9)::int % 10 = 0
"""


def settings_for(url: str) -> Settings:
    return Settings.from_env({}, database_url=url, environment="test", password_profile="fast", secret_key=SECRET)


def sign_up(url: str) -> None:
    with TestClient(create_app(settings_for(url)), base_url="http://bench.local") as client:
        body = {
            "company_name": "Bench Pumps",
            "slug": "bench-pumps",
            "admin_name": "Cora Channel",
            "email": "cora@bench.example",
            "password": "a long enough benchmark password 42",
        }
        answer = client.post("/api/signup", json=body)
        assert answer.status_code == 201, answer.text


async def load(owner_url: str, accounts: int) -> uuid.UUID:
    db = Database(settings_for(owner_url))
    try:
        async with db.engine.begin() as conn:
            tenant_id, user_id = (
                await conn.execute(text("SELECT tenant_id, id FROM internal_users WHERE email = 'cora@bench.example'"))
            ).one()
            began = time.perf_counter()
            await conn.execute(text(ACCOUNTS), {"t": tenant_id, "n": accounts})
            await conn.execute(text(REGISTRATIONS), {"t": tenant_id, "u": user_id})
            print(
                f"loaded {accounts:,} accounts, a registration on every tenth, in {time.perf_counter() - began:.1f} s"
            )
        async with db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            for table in ("crm_accounts", "agent_deals"):
                await conn.execute(text(f"VACUUM ANALYZE {table}"))
        return tenant_id
    finally:
        await db.dispose()


def keys_for(n: int, accounts: int, rng: random.Random) -> Keys:
    if n % 5 == 4:  # a customer nobody has
        return Keys.of(f"New Venture {n} 有限公司", f"92{n:016d}", f"+86 137 {n:08d}", f"new{n}@venture.example")
    k = rng.randint(1, accounts)
    return Keys.of(
        f"  CUSTOMER {k} company limited", f"91310000-{k:010d}", f"139 {k:08d}", f"Buyer{k}@Customer.example"
    )


async def timed(
    url: str, tenant_id: uuid.UUID, accounts: int, checks: int
) -> tuple[list[float], list[float], int, int]:
    db = Database(settings_for(url))
    rng = random.Random(7)
    times: list[float] = []
    met = registered = 0
    try:
        for n in range(checks + 20):  # the first twenty warm the connection and the statement cache
            keys = keys_for(n, accounts, rng)
            async with db.session(tenant_context(tenant_id, channel="system")) as session:
                # a registration checks inside its open transaction (its deal is written first)
                await session.execute(text("SELECT 1"))
                began = time.perf_counter()
                await matching.lock(session, keys)
                found = await matching.find(session, keys, utcnow())
                elapsed = (time.perf_counter() - began) * 1000
                await session.rollback()
            if n >= 20:
                times.append(elapsed)
                met += bool(found)
                registered += any(f.registrations for f in found)
        trip: list[float] = []
        async with db.session(tenant_context(tenant_id, channel="system"), write=False) as session:
            for _ in range(checks):  # the floor: one round trip on a connection, as loaded now
                began = time.perf_counter()
                await session.execute(text("SELECT 1"))
                trip.append((time.perf_counter() - began) * 1000)
        return times, trip, met, registered
    finally:
        await db.dispose()


PARTNERS = 8  # enterprises; two people each claim and hold leads
PEOPLE = 2 * PARTNERS
NOTICE_DAYS, FOLLOW_UP_DAYS, CONVERT_DAYS = 2, 14, 90
# The claim pool: an enterprise holds at most 90 of its leads, a person 60, and claims 50 a day, so the
# daily limit stops one of an enterprise's two claimers and the enterprise limit the other (720 claims).
ENTERPRISE_LIMIT, PERSON_LIMIT, DAILY_LIMIT = 90, 60, 50

# Every :every-th lead is due for its notice (n % every = 2) or back to the pool (n % every = 3); of the
# others a tenth are converted, a tenth pooled, the rest held by a partner with their deadlines ahead.
LEADS = """
INSERT INTO agent_leads (tenant_id, id, owner_id, enterprise_id, company_name, phone, source, status, pool_id,
    holder_id, assigned_at, follow_up_due, convert_due, noticed, next_check_at, converted_at, created_by,
    created_at, updated_at)
SELECT :t, gen_random_uuid(),
    CASE WHEN held THEN (CAST(:people AS uuid[]))[1 + n % 16] ELSE :u END,
    CASE WHEN held THEN (CAST(:links AS uuid[]))[1 + n % 8] END,
    'Lead ' || n || ' Trading Co.', '+86138' || lpad(n::text, 8, '0'), 'import',
    CASE WHEN held THEN 'assigned' WHEN n % 10 = 0 THEN 'converted' ELSE 'pooled' END,
    :pool, CASE WHEN held THEN (CAST(:people AS uuid[]))[1 + n % 16] END,
    CASE WHEN held THEN assigned END,
    CASE WHEN held THEN follow_up END,
    CASE WHEN held THEN assigned + interval '90 days' END,
    n % :every = 3,
    CASE WHEN n % :every IN (2, 3) THEN CAST(:now AS timestamptz) - interval '1 minute' * (1 + n % 240)
        WHEN held THEN follow_up - interval '2 days' END,
    CASE WHEN n % 10 = 0 AND NOT held THEN CAST(:now AS timestamptz) - interval '3 days' END,
    :u, CAST(:now AS timestamptz) - interval '30 days', CAST(:now AS timestamptz)
FROM (
    SELECT n, (n % :every IN (2, 3) OR n % 10 >= 2) AS held,
        CASE WHEN n % :every = 2 THEN CAST(:now AS timestamptz) + interval '1 day'
            WHEN n % :every = 3 THEN CAST(:now AS timestamptz) - interval '1 minute' * (1 + n % 240)
            ELSE CAST(:now AS timestamptz) + interval '4 days' + interval '1 minute' * (n % 12960) END AS follow_up,
        CAST(:now AS timestamptz) - interval '10 days' + interval '1 minute' * (n % 12960) AS assigned
    FROM generate_series(1, :n) AS n
) AS s
"""
CLAIM_POOL = """
INSERT INTO agent_leads (tenant_id, id, owner_id, company_name, source, status, pool_id, noticed, created_by,
    created_at, updated_at)
SELECT :t, gen_random_uuid(), :u, 'Pooled lead ' || n, 'import', 'pooled', :pool, false, :u,
    CAST(:now AS timestamptz) - interval '1 second' * n, CAST(:now AS timestamptz)
FROM generate_series(1, :n) AS n
"""


@dataclass
class World:
    tenant_id: uuid.UUID
    tenant_name: str
    user_id: uuid.UUID
    partner_type_id: uuid.UUID
    links: list[uuid.UUID]
    people: list[uuid.UUID]  # people[i] works for links[i % PARTNERS]
    recycle_pool: uuid.UUID
    claim_pool: uuid.UUID


async def _insert(conn: AsyncConnection, table: str, rows: list[dict[str, Any]]) -> None:
    names = list(rows[0])
    columns, values = ", ".join(names), ", ".join(":" + n for n in names)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({values})"  # noqa: S608 (the tables and columns named here)
    await conn.execute(text(sql), rows)


async def partners(owner_url: str) -> World:
    """Eight active partner enterprises of the signed-up manufacturer with two people each, a pool whose
    rules recycle the leads they hold, and a pool with holding and daily limits to claim from."""
    db = Database(settings_for(owner_url))
    now = utcnow()
    try:
        async with db.engine.begin() as conn:
            tenant_id, user_id = (
                await conn.execute(text("SELECT tenant_id, id FROM internal_users WHERE email = 'cora@bench.example'"))
            ).one()
            tenant_name = (
                await conn.execute(text("SELECT name FROM tenants WHERE id = :t"), {"t": tenant_id})
            ).scalar()
            type_id = (
                await conn.execute(
                    text("SELECT id FROM partner_types WHERE tenant_id = :t ORDER BY sort_order LIMIT 1"),
                    {"t": tenant_id},
                )
            ).scalar_one()
            stamp = {"created_at": now, "updated_at": now}
            accounts = [uuid.uuid4() for _ in range(PARTNERS)]
            links = [uuid.uuid4() for _ in range(PARTNERS)]
            people = [uuid.uuid4() for _ in range(PEOPLE)]
            identities = [uuid.uuid4() for _ in range(PEOPLE)]
            await _insert(
                conn,
                "crm_accounts",
                [
                    {
                        "tenant_id": tenant_id,
                        "id": a,
                        "name": f"Agent {i} Ltd.",
                        "kind": "partner",
                        "name_key": f"agent{i}",
                    }
                    | stamp
                    for i, a in enumerate(accounts)
                ],
            )
            await _insert(
                conn,
                "enterprise_links",
                [
                    {"tenant_id": tenant_id, "id": link, "name": f"Agent {i} Ltd.", "partner_type_id": type_id}
                    | {"account_id": accounts[i], "status": "active", "activated_at": now, "has_sub_enterprises": False}
                    | stamp
                    for i, link in enumerate(links)
                ],
            )
            await _insert(
                conn,
                "external_identities",
                [
                    {"id": ident, "email": f"agent{i}@agents.example", "display_name": f"Agent person {i}"} | stamp
                    for i, ident in enumerate(identities)
                ],
            )
            await _insert(
                conn,
                "memberships",
                [
                    {"tenant_id": tenant_id, "id": person, "identity_id": identities[i], "link_id": links[i % PARTNERS]}
                    | {"display_name": f"Agent person {i}", "is_enterprise_admin": i < PARTNERS, "status": "active"}
                    | {"joined_at": now, "email": f"agent{i}@agents.example"}
                    | stamp
                    for i, person in enumerate(people)
                ],
            )
            pools = []
            for name, limits in (
                ("Recycled leads", (None, None, None)),
                ("Open pool", (ENTERPRISE_LIMIT, PERSON_LIMIT, DAILY_LIMIT)),
            ):
                pools.append(uuid.uuid4())
                await _insert(
                    conn,
                    "agent_lead_pools",
                    [
                        {"tenant_id": tenant_id, "id": pools[-1], "name": name, "enterprise_limit": limits[0]}
                        | {"person_limit": limits[1], "daily_claim_limit": limits[2], "visible_fields": "[]"}
                        | {"cooldown_days": 7, "follow_up_days": FOLLOW_UP_DAYS, "convert_days": CONVERT_DAYS}
                        | {"notice_days": NOTICE_DAYS, "active": True}
                        | stamp
                    ],
                )
        return World(tenant_id, tenant_name, user_id, type_id, links, people, pools[0], pools[1])
    finally:
        await db.dispose()


async def load_leads(owner_url: str, world: World, leads: int, due: int, now: datetime) -> None:
    db = Database(settings_for(owner_url))
    try:
        async with db.engine.begin() as conn:
            began = time.perf_counter()
            params = {"t": world.tenant_id, "u": world.user_id, "pool": world.recycle_pool, "now": now}
            params |= {"n": leads, "every": max(2 * leads // due, 10), "links": world.links, "people": world.people}
            await conn.execute(text(LEADS), params)
            print(f"loaded {leads:,} leads in {time.perf_counter() - began:.1f} s")
        async with db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE agent_leads"))
    finally:
        await db.dispose()


async def explain(session: AsyncSession, statement: Any) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of `statement` exactly as the application's driver sends it."""
    connection = await session.connection()
    compiled = statement.compile(dialect=connection.dialect)
    params = tuple(compiled.params[name] for name in compiled.positiontup or ())
    result = await connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}", params)
    return [row[0] for row in result]


async def recycle(url: str, world: World, now: datetime) -> tuple[list[Row], list[str]]:
    """The due leads' read as EXPLAIN (ANALYZE) shows it (rolled back), then one run of the job."""
    db = Database(settings_for(url))
    try:
        async with db.session(tenant_context(world.tenant_id, channel="system")) as session:
            due = await session.scalar(
                select(func.count()).select_from(Lead).where(Lead.next_check_at.is_not(None), Lead.next_check_at <= now)
            )
            plan = await explain(session, recycling.due_batch(now))
            await session.rollback()
        assert not any("Seq Scan on agent_leads" in line for line in plan), "the due leads' read scans agent_leads"
        assert any("ix_agent_leads_next_check" in line for line in plan), "the due leads' read skips its index"
        app = create_app(settings_for(url), database=db)
        services = app.state.services
        statements: dict[str, int] = {}

        def count(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            key = " ".join(statement.split()[:3])[:60]
            statements[key] = statements.get(key, 0) + 1

        event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        began = time.perf_counter()
        done = await recycling.lead_recycling(services, now)
        elapsed = time.perf_counter() - began
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
        async with db.session(tenant_context(world.tenant_id, channel="system"), write=False) as session:
            actions = dict(
                (
                    await session.execute(
                        select(LeadEvent.action, func.count()).where(LeadEvent.at == now).group_by(LeadEvent.action)
                    )
                ).all()
            )
            told = await session.scalar(select(func.count()).select_from(Notification))
        assert actions.get("recycled", 0) + actions.get("noticed", 0) == done
        execution = next(line for line in reversed(plan) if line.startswith("Execution Time"))
        rows = [
            Row(f"recycling job, one run over {due:,} due leads", f"{elapsed:.2f} s", "<= 10 s"),
            Row(
                "  leads taken back / holders warned / notifications",
                f"{actions.get('recycled', 0):,} / {actions.get('noticed', 0):,} / {told or 0:,}",
                "",
            ),
            Row("  the due leads' batch read (index scan, no Seq Scan)", execution.split(": ")[1], "index-driven"),
            Row("  statements the run sent", f"{sum(statements.values()):,}", ""),
            *(Row(f"    {key} ...", f"{n:,}", "") for key, n in sorted(statements.items(), key=lambda kv: -kv[1])[:4]),
        ]
        return rows, plan
    finally:
        await db.dispose()


@dataclass
class Tally:
    claimed: int = 0
    taken: int = 0  # another claimer got there first (409 lead_taken)
    stopped: str = ""  # the limit that stopped this claimer, if one did


async def claimer(
    db: Database, services: Any, actor: Actor, pool_id: uuid.UUID, until: float, rng: random.Random, tally: Tally
) -> None:
    """Claims as the API's handler does: one transaction each, the pool's first page read, one lead of it
    claimed, until the pool is empty, a limit refuses, or time is up."""
    policy = role_policy(services)
    while time.perf_counter() < until:
        try:
            async with db.session(actor_context(actor)) as session:
                leads = Leads(session, policy, actor, PARTNER_LEAD, services.notifications)
                page, _total, _ = await leads.pool_page(pool_id, limit=20)
                if not page:
                    tally.stopped = "pool empty"
                    return
                await leads.claim(rng.choice(page)["id"])
            tally.claimed += 1
        except LeadTaken:
            tally.taken += 1
        except LeadLimitReached:
            tally.stopped = "a limit"
            return


async def claims(url: str, owner_url: str, world: World, pool: int, seconds: float) -> list[Row]:
    owner = Database(settings_for(owner_url))
    db = Database(settings_for(url))
    try:
        app = create_app(settings_for(url), database=db)
        services = app.state.services
        actors = [
            Actor(
                user_id=person,
                tenant_id=world.tenant_id,
                kind="external",
                channel="api",
                enterprise_id=world.links[i % PARTNERS],
                partner_type_id=world.partner_type_id,
                tenant_name=world.tenant_name,
            )
            for i, person in enumerate(world.people)
        ]
        rng = random.Random(11)
        policy = role_policy(services)
        async with db.session(tenant_context(world.tenant_id, channel="system"), write=False) as session:
            version = await session.scalar(select(Tenant.policy_version).where(Tenant.id == world.tenant_id))
            # the tenant's compiled policy, as a request's session lookup prepares it
            actors = [await policy.prepare(session, actor, version or 0) for actor in actors]
        for actor in actors:  # warm: one page read per claimer
            async with db.session(actor_context(actor), write=False) as session:
                await Leads(session, policy, actor, PARTNER_LEAD).pool_page(world.claim_pool, limit=20)
        tallies = [Tally() for _ in actors]
        began = time.perf_counter()
        await asyncio.gather(
            *(
                claimer(db, services, a, world.claim_pool, began + seconds, random.Random(rng.random()), t)
                for a, t in zip(actors, tallies, strict=True)
            )
        )
        elapsed = time.perf_counter() - began
    finally:
        await db.dispose()
    return await _verify_claims(owner, world, pool, tallies, elapsed)


async def _verify_claims(owner: Database, world: World, pool: int, tallies: list[Tally], elapsed: float) -> list[Row]:
    """Afterwards, from the tables: no lead claimed twice, none lost, no one over a limit."""
    try:
        async with owner.engine.connect() as conn:
            p = {"pool": world.claim_pool}
            statuses = dict(
                (
                    await conn.execute(
                        text("SELECT status, count(*) FROM agent_leads WHERE pool_id = :pool GROUP BY 1"), p
                    )
                ).all()
            )
            twice = (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM (SELECT e.lead_id FROM agent_lead_events e JOIN agent_leads l"
                        " ON l.id = e.lead_id WHERE l.pool_id = :pool AND e.action = 'claimed'"
                        " GROUP BY e.lead_id HAVING count(*) > 1) AS d"
                    ),
                    p,
                )
            ).scalar_one()
            events = (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM agent_lead_events e JOIN agent_leads l ON l.id = e.lead_id"
                        " WHERE l.pool_id = :pool AND e.action = 'claimed'"
                    ),
                    p,
                )
            ).scalar_one()
            most_enterprise = (
                await conn.execute(
                    text(
                        "SELECT coalesce(max(c), 0) FROM (SELECT count(*) AS c FROM agent_leads"
                        " WHERE pool_id = :pool AND status = 'assigned' GROUP BY enterprise_id) AS x"
                    ),
                    p,
                )
            ).scalar_one()
            most_person = (
                await conn.execute(
                    text(
                        "SELECT coalesce(max(c), 0) FROM (SELECT count(*) AS c FROM agent_leads"
                        " WHERE pool_id = :pool AND status = 'assigned' GROUP BY holder_id) AS x"
                    ),
                    p,
                )
            ).scalar_one()
            per_person = [
                c
                for (c,) in await conn.execute(
                    text(
                        "SELECT count(*) FROM agent_lead_events e JOIN agent_leads l ON l.id = e.lead_id"
                        " WHERE l.pool_id = :pool AND e.action = 'claimed' GROUP BY e.actor_id"
                    ),
                    p,
                )
            ]
    finally:
        await owner.dispose()
    claimed = sum(t.claimed for t in tallies)
    held, pooled = statuses.get("assigned", 0), statuses.get("pooled", 0)
    assert twice == 0, f"{twice} leads claimed twice"
    assert held == claimed == events, f"claims counted {claimed}, held {held}, claim events {events}"
    assert held + pooled == pool, f"{pool - held - pooled} leads lost"
    assert most_enterprise <= ENTERPRISE_LIMIT, f"an enterprise holds {most_enterprise}"
    assert most_person <= PERSON_LIMIT, f"a person holds {most_person}"
    assert max(per_person, default=0) <= DAILY_LIMIT, f"a person claimed {max(per_person)} today"
    stops: dict[str, int] = {}
    for t in tallies:
        stops[t.stopped or "time up"] = stops.get(t.stopped or "time up", 0) + 1
    return [
        Row(f"pool claims, {len(tallies)} concurrent claimers, pool of {pool:,}", f"{claimed / elapsed:.1f} /s", ""),
        Row(
            "  claimed / refused as taken / left in the pool, in",
            f"{claimed:,} / {sum(t.taken for t in tallies):,} / {pooled:,}",
            f"{elapsed:.1f} s",
        ),
        Row("  claimed twice / lost (claimed + pooled - total)", f"{twice} / {pool - held - pooled}", "0 / 0"),
        Row(
            "  most held by an enterprise / by a person / claimed by a person today",
            f"{most_enterprise} / {most_person} / {max(per_person, default=0)}",
            f"<= {ENTERPRISE_LIMIT} / {PERSON_LIMIT} / {DAILY_LIMIT}",
        ),
        Row("  claimers stopped by", ", ".join(f"{k} {v}" for k, v in sorted(stops.items())), ""),
    ]


async def fill_claim_pool(owner_url: str, world: World, pool: int, now: datetime) -> None:
    db = Database(settings_for(owner_url))
    try:
        async with db.engine.begin() as conn:
            params = {"t": world.tenant_id, "u": world.user_id, "pool": world.claim_pool, "n": pool, "now": now}
            await conn.execute(text(CLAIM_POOL), params)
    finally:
        await db.dispose()


@dataclass(frozen=True)
class Row:
    label: str
    figure: str
    goal: str


async def run(owner_url: str, args: argparse.Namespace) -> None:
    parts = set(args.only.split(",")) if args.only else {"dup", "recycle", "claims"}
    now = utcnow()
    rows: list[Row] = []
    plan: list[str] = []
    world = await partners(owner_url)
    if "dup" in parts:
        await load(owner_url, args.accounts)
    if "recycle" in parts:
        await load_leads(owner_url, world, args.leads, args.due, now)
    if "claims" in parts:
        await fill_claim_pool(owner_url, world, args.pool, now)
    async with serving_login(owner_url) as url:
        if "dup" in parts:
            times, trip, met, registered = await timed(url, world.tenant_id, args.accounts, args.checks)
            label = f"duplicate check at registration against {args.accounts:,} accounts: median"
            rows += [
                Row(label, f"{statistics.median(times):.2f} ms", "<= 5 ms"),
                Row(
                    "  95th percentile / checks",
                    f"{statistics.quantiles(times, n=20)[18]:.2f} ms",
                    f"{len(times)} checks",
                ),
                Row("  checks that met an account / a live registration", f"{met} / {registered}", ""),
                Row("  a round trip (SELECT 1) on a connection: median", f"{statistics.median(trip):.2f} ms", ""),
            ]
        if "recycle" in parts:
            found, plan = await recycle(url, world, now)
            rows += found
        if "claims" in parts:
            rows += await claims(url, owner_url, world, args.pool, args.seconds)
    if plan:
        print("\nThe recycling job's read of the due leads (EXPLAIN ANALYZE, serving login, rolled back):")
        print("\n".join("  " + line for line in plan))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"\nAgent app, PostgreSQL, {cores} cores (load average {os.getloadavg()[0]:.1f})")
    print(f"{'':<72} {'figure':>22}   goal")
    for row in rows:
        print(f"{row.label:<72} {row.figure:>22}   {row.goal}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--only", help="the parts to run, of dup, recycle, claims (comma-separated); all by default")
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=500)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=2_000, help="leads due: half for their notice, half back")
    parser.add_argument("--pool", type=int, default=2_000)
    parser.add_argument("--seconds", type=float, default=60.0, help="at most this long claiming")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if args.only and not set(args.only.split(",")) <= {"dup", "recycle", "claims"}:
        parser.error("--only takes dup, recycle or claims, comma-separated")
    server = normalise_database_url(args.url)
    with scratch_database(server, f"portal_bench_agent_{os.getpid()}", reuse=False, keep=args.keep) as owner_url:
        migrate.upgrade(settings_for(owner_url))
        sign_up(owner_url)
        asyncio.run(run(owner_url, args))


if __name__ == "__main__":
    main()
