"""Bulk onboarding: CSV and XLSX imports of enterprises and their first admins, per-row errors with row
numbers, all-or-nothing and valid-rows modes, quotas, idempotent re-runs, progress, the XLSX export and
the `portal partners` commands."""

from __future__ import annotations

import asyncio
import csv
import io
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from interconnect.imports import create_job, run_job, running
from interconnect.models import EnterpriseLink, ImportJob
from portal.components import load_components
from portal.config import Settings
from portal.db.context import tenant_context
from portal.db.engine import Database
from portal.i18n import Catalogs
from portal.outbox import OutboxEvent
from portal.services import Services
from tests.cli import portal
from tests.db import run_with_database
from tests.integration.interconnect.support import leave_slots
from tests.integration.web.test_pages import act_as
from tests.spreadsheets import (
    assert_refused_as_a_file_problem,
    bombs,
    exported_values,
    shown,
    stored_text,
    write_directly,
)
from tests.world import TenantWorld, World, background_jobs_ended, unique

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["name", "code", "partner_type", "tier", "region", "parent_code", "contact_phone", "admin_name",
          "admin_email", "admin_mobile"]  # fmt: skip


# --- files ------------------------------------------------------------------------------------------


def csv_bytes(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def row(name: str, code: str = "", partner_type: str = "dealer", **fields: Any) -> list[Any]:
    values = {"name": name, "code": code, "partner_type": partner_type, **fields}
    return [values.get(column, "") for column in HEADER]


def email(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:8]}@partner.example"


# --- API calls --------------------------------------------------------------------------------------


def upload(client: TestClient, tenant: TenantWorld, filename: str, content: bytes, mode: str = "all_or_nothing") -> Any:
    media = XLSX if filename.endswith(".xlsx") else "text/csv"
    return client.post(
        "/api/interconnect/imports",
        headers=tenant.admin.bearer,
        files={"file": (filename, content, media)},
        data={"mode": mode},
    )


def wait(client: TestClient, tenant: TenantWorld, job_id: str, seen: list[dict[str, Any]] | None = None) -> dict:
    # a generous bound: a loaded 2-core machine runs a 150-row import for seconds
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        response = client.get(f"/api/interconnect/imports/{job_id}", headers=tenant.admin.bearer)
        assert response.status_code == 200, response.text
        job = response.json()
        if seen is not None:
            seen.append(job)
        if job["status"] in ("done", "failed"):
            return job
        background_jobs_ended(client)  # runs the job on this loop, as a worker would
    raise AssertionError(f"import {job_id} did not finish within 90 s: {job}")


def run_import(
    client: TestClient, tenant: TenantWorld, filename: str, content: bytes, mode: str = "all_or_nothing"
) -> dict[str, Any]:
    response = upload(client, tenant, filename, content, mode)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    return wait(client, tenant, response.json()["id"])


def find(client: TestClient, tenant: TenantWorld, text: str) -> list[dict[str, Any]]:
    response = client.get("/api/interconnect/enterprises", headers=tenant.admin.bearer, params={"q": text})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def total(client: TestClient, tenant: TenantWorld) -> int:
    return client.get("/api/interconnect/enterprises", headers=tenant.admin.bearer, params={"limit": 1}).json()["total"]


def quota(client: TestClient, tenant: TenantWorld) -> dict[str, int]:
    return client.get("/api/interconnect/quota", headers=tenant.admin.bearer).json()


def where(job: dict[str, Any]) -> set[tuple[int | None, str]]:
    return {(e["row"], e["field"]) for e in job["errors"]}


def events_of(settings: Settings, tenant_id: str, aggregate_id: str) -> list[str]:
    async def work(db: Database) -> list[str]:
        async with db.session(tenant_context(uuid.UUID(tenant_id))) as session:
            rows = await session.scalars(
                select(OutboxEvent.event_type).where(OutboxEvent.aggregate_id == uuid.UUID(aggregate_id))
            )
            return list(rows)

    return run_with_database(settings, work)


# --- happy paths ------------------------------------------------------------------------------------


def test_csv_import_creates_enterprises_their_tree_and_first_admins(
    client: TestClient, world: World, settings: Settings
) -> None:
    tag = unique("csv")
    a = world.a
    before = quota(client, a)
    content = csv_bytes(
        [
            row(f"{tag} North Supply", f"{tag}-north", "distributor", tier="gold", admin_name="Nora",
                admin_email=email("nora"), contact_phone="+86 21 5555 0101"),
            row(f"{tag} North Store", f"{tag}-store", "store", parent_code=f"{tag}-north"),
            row(f"{tag} Mobile Dealer", "", "dealer", admin_name="Mo", admin_mobile="+86 138 0000 1234"),
        ]
    )  # fmt: skip
    job = run_import(client, a, "partners.csv", content)
    assert job["status"] == "done", job
    assert (job["total_rows"], job["processed_rows"], job["created_count"], job["skipped_count"]) == (3, 3, 3, 0)
    assert job["errors"] == [] and job["error_count"] == 0 and job["finished_at"]

    [north] = find(client, a, f"{tag} North Supply")
    [store] = find(client, a, f"{tag} North Store")
    [dealer] = find(client, a, f"{tag} Mobile Dealer")
    assert north["status"] == "invited" and dealer["status"] == "invited"  # until their admins set a password
    assert store["status"] == "active" and store["parent_id"] == north["id"]
    assert north["code"] == f"{tag}-north" and dealer["code"] is None
    detail = client.get(f"/api/interconnect/enterprises/{north['id']}", headers=a.admin.bearer).json()
    assert [c["id"] for c in detail["children"]] == [store["id"]]
    [admin] = detail["users"]
    assert admin["display_name"] == "Nora" and admin["is_enterprise_admin"] and admin["status"] == "invited"
    mobile_admin = client.get(f"/api/interconnect/enterprises/{dealer['id']}/users", headers=a.admin.bearer).json()
    assert mobile_admin["items"][0]["mobile"] == "+8613800001234"

    after = quota(client, a)
    assert after["enterprises_used"] == before["enterprises_used"] + 3
    assert after["external_users_used"] == before["external_users_used"] + 2
    # events and audit come from the services, with the uploader as the actor
    assert "link.invited" in events_of(settings, a.tenant_id, north["id"])
    assert "link.established" in events_of(settings, a.tenant_id, store["id"])
    audit = client.get("/api/audit", headers=a.admin.bearer, params={"object_id": north["id"]}).json()
    created = next(e for e in audit if e["action"] == "create" and e["object_type"] == "enterprise_links")
    assert created["actor_id"] == a.admin.user_id and created["actor_kind"] == "internal"


def test_xlsx_import_with_chinese_headers_and_numeric_cells(client: TestClient, world: World) -> None:
    tag = unique("xlsx")
    header = ["企业名称", "企业编码", "伙伴类型", "等级", "上级企业编码", "管理员姓名", "管理员邮箱", "管理员手机"]
    content = xlsx_bytes(
        [
            [f"{tag} 华东经销商", f"{tag}-east", "distributor", "Silver", None, "王伟", email("wang"), None],
            [f"{tag} 上海门店", f"{tag}-sh", "STORE", None, f"{tag}-east", "李娜", None, 13800138000],
        ],
        header,
    )
    job = run_import(client, world.a, "伙伴.xlsx", content)
    assert job["status"] == "done" and job["errors"] == [], job
    assert job["filename"] == "伙伴.xlsx" and job["created_count"] == 2
    [store] = find(client, world.a, f"{tag}-sh")
    [east] = find(client, world.a, f"{tag}-east")
    assert store["parent_id"] == east["id"]
    users = client.get(f"/api/interconnect/enterprises/{store['id']}/users", headers=world.a.admin.bearer).json()
    assert users["items"][0]["mobile"] == "13800138000"  # a number cell, not "13800138000.0"


# --- per-row errors ---------------------------------------------------------------------------------


def bad_file(tag: str, taken_email: str) -> bytes:
    return csv_bytes(
        [
            row(f"{tag} Good", f"{tag}-good", admin_name="Gina", admin_email=email("gina")),  # row 2
            row(f"{tag} Bad Email", f"{tag}-mail", admin_name="Ed", admin_email="not-an-email"),  # row 3
            row(f"{tag} Unknown", f"{tag}-unknown", "wizard", tier="platinum"),  # row 4
            row(f"{tag} Again", f"{tag}-good"),  # row 5: the code of row 2
            ["", "", "", "", "", "", "", "", "", ""],  # row 6: blank, skipped but counted
            row(f"{tag} Orphan", f"{tag}-orphan", parent_code=f"{tag}-nowhere"),  # row 7
            row("", f"{tag}-noname", admin_email=email("x")),  # row 8: no name, admin without a name
            row(f"{tag} Child", f"{tag}-child", parent_code=f"{tag}-later"),  # row 9: parent below
            row(f"{tag} Later", f"{tag}-later"),  # row 10
            row(f"{tag} Taken", f"{tag}-taken", admin_name="T", admin_email=taken_email),  # row 11
            row(f"{tag} Under Bad", f"{tag}-under", parent_code=f"{tag}-mail"),  # row 12: parent row 3 is bad
        ]
    )


EXPECTED_ERRORS = {
    (3, "admin_email"),
    (4, "partner_type"),
    (4, "tier"),
    (5, "code"),
    (7, "parent_code"),
    (8, "name"),
    (8, "admin_name"),
    (9, "parent_code"),
    (11, "admin_email"),
    (12, "parent_code"),
}


def test_all_or_nothing_reports_every_bad_row_and_writes_nothing(client: TestClient, world: World) -> None:
    tag = unique("aon")
    before_total, before_quota = total(client, world.a), quota(client, world.a)
    job = run_import(client, world.a, "partners.csv", bad_file(tag, world.x.admin.email))
    assert job["status"] == "done"
    assert where(job) == EXPECTED_ERRORS, job["errors"]
    assert job["created_count"] == 0 and job["total_rows"] == 10 and job["processed_rows"] == 10
    assert [e["row"] for e in job["errors"]] == sorted(e["row"] for e in job["errors"])
    messages = {(e["row"], e["field"]): e["message"] for e in job["errors"]}
    assert "not-an-email" in messages[(3, "admin_email")]
    assert "wizard" in messages[(4, "partner_type")] and "dealer" in messages[(4, "partner_type")]
    assert "row 2" in messages[(5, "code")]
    assert "row 10" in messages[(9, "parent_code")] and "row 3" in messages[(12, "parent_code")]
    assert find(client, world.a, tag) == []
    assert total(client, world.a) == before_total and quota(client, world.a) == before_quota


def test_valid_rows_creates_the_good_rows_and_reports_the_rest(client: TestClient, world: World) -> None:
    tag = unique("valid")
    job = run_import(client, world.a, "partners.csv", bad_file(tag, world.x.admin.email), mode="valid_rows")
    assert job["status"] == "done"
    assert where(job) == EXPECTED_ERRORS, job["errors"]
    assert job["created_count"] == 2  # rows 2 and 10
    assert sorted(e["name"] for e in find(client, world.a, tag)) == [f"{tag} Good", f"{tag} Later"]


def test_a_file_is_held_to_the_same_text_rules_as_a_form(client: TestClient, world: World) -> None:
    tag = unique("ctrl")
    rows = [row(f"{tag} Tab\tName"), row(f"{tag} Fine"), row(f"{tag} Spoof", admin_name="Ann\u202eeL")]
    ctrl = [row(f"{tag} Ctl\x01Name"), *rows[1:]]  # XLSX cannot even hold a C0 character: CSV only
    for filename, content in (("partners.csv", csv_bytes(ctrl)), ("partners.xlsx", xlsx_bytes(rows))):
        job = run_import(client, world.a, filename, content, mode="valid_rows")
        assert job["status"] == "done"
        refused = {(e["row"], e["field"], e["code"]) for e in job["errors"]}
        assert refused == {(2, "name", "control_character"), (4, "admin_name", "control_character")}, job["errors"]
    assert [e["name"] for e in find(client, world.a, tag)] == [f"{tag} Fine"]


def test_running_the_same_file_again_creates_nothing_new(client: TestClient, world: World) -> None:
    tag = unique("again")
    content = csv_bytes(
        [
            row(f"{tag} Coded", f"{tag}-coded", admin_name="C", admin_email=email("c")),
            row(f"{tag} Uncoded"),
            row(f"{tag} Sub", f"{tag}-sub", parent_code=f"{tag}-coded"),
        ]
    )
    first = run_import(client, world.a, "partners.csv", content)
    assert (first["created_count"], first["skipped_count"], first["errors"]) == (3, 0, [])
    count, used = total(client, world.a), quota(client, world.a)
    for mode in ("all_or_nothing", "valid_rows"):
        again = run_import(client, world.a, "partners.csv", content, mode)
        assert (again["created_count"], again["skipped_count"], again["errors"]) == (0, 3, []), again
    assert total(client, world.a) == count and quota(client, world.a) == used
    assert len(find(client, world.a, tag)) == 3


def test_quota_exhaustion_mid_file(client: TestClient, world: World, settings: Settings) -> None:
    tag = unique("quota")
    content = csv_bytes([row(f"{tag} {n}", f"{tag}-{n}") for n in range(1, 5)])  # rows 2..5
    leave_slots(settings, world.a.tenant_id, enterprises=2)
    before = quota(client, world.a)
    job = run_import(client, world.a, "partners.csv", content)
    assert where(job) == {(4, "quota"), (5, "quota")} and job["created_count"] == 0, job
    assert {e["code"] for e in job["errors"]} == {"quota_exceeded"}
    assert quota(client, world.a) == before and find(client, world.a, tag) == []

    job = run_import(client, world.a, "partners.csv", content, "valid_rows")
    assert where(job) == {(4, "quota"), (5, "quota")} and job["created_count"] == 2, job
    assert "quota of" in job["errors"][0]["message"]
    assert sorted(e["code"] for e in find(client, world.a, tag)) == [f"{tag}-1", f"{tag}-2"]
    assert quota(client, world.a)["enterprises_used"] == quota(client, world.a)["max_enterprises"]


def test_a_row_refused_for_the_user_quota_leaves_no_enterprise_behind(
    client: TestClient, world: World, settings: Settings
) -> None:
    tag = unique("users")
    leave_slots(settings, world.a.tenant_id, enterprises=10, users=1)
    content = csv_bytes(
        [
            row(f"{tag} One", f"{tag}-1", admin_name="A", admin_email=email("a")),
            row(f"{tag} Two", f"{tag}-2", admin_name="B", admin_email=email("b")),
        ]
    )
    before = quota(client, world.a)
    job = run_import(client, world.a, "partners.csv", content, "valid_rows")
    assert where(job) == {(3, "quota")} and job["created_count"] == 1, job
    assert [e["code"] for e in find(client, world.a, tag)] == [f"{tag}-1"]  # row 3's enterprise was not kept
    after = quota(client, world.a)
    assert after["enterprises_used"] == before["enterprises_used"] + 1
    assert after["external_users_used"] == before["external_users_used"] + 1


# --- the file itself --------------------------------------------------------------------------------


def refused(response: Any, *fields: str) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "validation_failed"
    assert {e["field"] for e in body["errors"]} == set(fields), body["errors"]
    return body["errors"]


def test_bad_files_are_refused_with_clear_errors_and_store_nothing(client: TestClient, world: World) -> None:
    a = world.a
    good = csv_bytes([row("Fine", "fine")])
    errors = refused(upload(client, a, "partners.txt", good), "file")
    assert ".csv or .xlsx" in errors[0]["message"]
    refused(upload(client, a, "partners.xlsx", good), "file")  # a CSV named .xlsx
    refused(upload(client, a, "partners.csv", xlsx_bytes([row("Fine")])), "file")  # a workbook named .csv
    assert "empty" in refused(upload(client, a, "partners.csv", b""), "file")[0]["message"]
    assert "no rows" in refused(upload(client, a, "partners.csv", csv_bytes([])), "file")[0]["message"]
    errors = refused(upload(client, a, "partners.csv", csv_bytes([["x", "y"]], ["name", "colour"])), "file")
    assert {e["code"] for e in errors} == {"unknown_column", "missing_column"}
    assert "'colour'" in errors[0]["message"] and "partner_type" in errors[1]["message"]
    too_many = csv_bytes([row(f"Row {n}") for n in range(5001)])
    assert "5,000" in refused(upload(client, a, "partners.csv", too_many), "file")[0]["message"]
    too_big = csv_bytes([row("Big", contact_phone="1")]) + b"#" * (5 * 1024 * 1024)
    assert "5 MB" in refused(upload(client, a, "partners.csv", too_big), "file")[0]["message"]
    refused(upload(client, a, "partners.csv", good, mode="everything"), "mode")
    no_file = client.post("/api/interconnect/imports", headers=a.admin.bearer, files={"mode": (None, "valid_rows")})
    assert no_file.status_code == 422 and no_file.json()["errors"][0]["field"] == "file", no_file.text
    not_multipart = client.post("/api/interconnect/imports", headers=a.admin.bearer, json={"file": "x"})
    assert 400 <= not_multipart.status_code < 500, not_multipart.text
    assert find(client, a, "Fine") == []

    huge = client.post(
        "/api/interconnect/imports",
        headers=a.admin.bearer,
        files={"file": ("huge.csv", b"x" * (7 * 1024 * 1024), "text/csv")},
    )
    assert huge.status_code == 413 and huge.json()["code"] == "payload_too_large"
    staff = client.post(
        "/api/interconnect/imports",
        headers=a.others["staff"].bearer,
        files={"file": ("partners.csv", good, "text/csv")},
    )
    assert staff.status_code == 403


# --- progress, isolation, export --------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["valid_rows", "all_or_nothing"])
def test_progress_is_reported_in_order_and_complete(
    client: TestClient, world: World, settings: Settings, mode: str
) -> None:
    tag = unique("progress")
    leave_slots(settings, world.a.tenant_id, enterprises=200)
    content = csv_bytes([row(f"{tag} {n}", f"{tag}-{n}") for n in range(150)])
    response = upload(client, world.a, "partners.csv", content, mode)
    assert response.status_code == 202, response.text
    seen: list[dict[str, Any]] = []
    job = wait(client, world.a, response.json()["id"], seen)
    assert job["created_count"] == 150 and job["processed_rows"] == job["total_rows"] == 150, job
    progress = [j["processed_rows"] for j in seen]
    assert progress == sorted(progress)


@pytest.mark.parametrize("mode", ["valid_rows", "all_or_nothing"])
def test_progress_is_committed_while_the_import_runs(
    world: World, settings: Settings, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a page polling the job sees, observed deterministically: when row 101 is reached, another
    connection reads the committed progress (rows 1-100). SQLite has one writer at a time, so while the
    single all-or-nothing transaction is open there, progress is committed with the result instead.
    Progress is committed by row count only here: on a loaded machine the time-based commit would fall
    between batches."""
    monkeypatch.setattr(running, "PROGRESS_SECONDS", 3600.0)
    tag = unique("progress")
    leave_slots(settings, world.a.tenant_id, enterprises=200)
    content = csv_bytes([row(f"{tag} {n}", f"{tag}-{n}") for n in range(150)])
    tenant_id = uuid.UUID(world.a.tenant_id)
    observed: list[int] = []
    # SQLite's single all-or-nothing transaction holds the only write lock: no other connection can
    # even begin until it commits, so there is nothing to observe mid-way (the page waits instead).
    observable = not (mode == "all_or_nothing" and settings.database_url.startswith("sqlite"))

    def look(job_id: uuid.UUID) -> None:
        observed.append(run_with_database(settings, lambda db: read_progress(db, job_id)))

    async def read_progress(db: Database, job_id: uuid.UUID) -> int:
        async with db.session(tenant_context(tenant_id)) as session:
            return (await session.scalars(select(ImportJob.processed_rows).where(ImportJob.id == job_id))).one()

    async def main() -> int:
        components = load_components()
        services = Services.build(settings, Catalogs([], settings.languages, settings.default_language), components)
        try:
            async with services.db.session(tenant_context(tenant_id)) as session:
                job, rows = await create_job(session, None, "partners.csv", content, mode)
                job_id = job.id

            def progress(processed: int, total: int) -> None:
                if processed == 101 and observable:  # the import waits while another connection looks
                    reader = threading.Thread(target=look, args=(job_id,))
                    reader.start()
                    reader.join()

            result = await run_job(services, tenant_id, job_id, rows, progress)
            return result.job.created_count
        finally:
            await services.db.dispose()

    assert asyncio.run(main()) == 150
    assert observed == ([100] if observable else [])


def test_another_tenants_import_is_not_found(client: TestClient, world: World) -> None:
    job_id = world.ids["import_job"]
    assert client.get(f"/api/interconnect/imports/{job_id}", headers=world.a.admin.bearer).status_code == 200
    response = client.get(f"/api/interconnect/imports/{job_id}", headers=world.b.admin.bearer)
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    missing = client.get(f"/api/interconnect/imports/{uuid.uuid4()}", headers=world.a.admin.bearer)
    assert missing.status_code == 404


def exported(client: TestClient, tenant: TenantWorld) -> list[list[Any]]:
    response = client.get("/api/interconnect/enterprises/export", headers=tenant.admin.bearer)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(XLSX)
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    return [list(r) for r in workbook.worksheets[0].iter_rows(values_only=True)]


def test_export_lists_the_tenants_enterprises_only_and_can_be_imported_again(client: TestClient, world: World) -> None:
    tag = unique("export")
    admin_email = email("ex")
    content = csv_bytes(
        [
            row(f"{tag} Parent", f"{tag}-p", "distributor", tier="gold", admin_name="Pat", admin_email=admin_email),
            row(f"{tag} Kid", f"{tag}-k", "store", parent_code=f"{tag}-p"),
            row(f'=HYPERLINK("http://evil.example") {tag}', f"{tag}-f"),
        ]
    )
    assert run_import(client, world.a, "partners.csv", content)["created_count"] == 3
    b_name = unique("b-only")
    assert run_import(client, world.b, "b.csv", csv_bytes([row(b_name, b_name)]))["created_count"] == 1

    rows = exported(client, world.a)
    header = rows[0]
    assert header[:10] == HEADER and "status" in header
    by_code = {r[1]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    parent, kid = by_code[f"{tag}-p"], by_code[f"{tag}-k"]
    assert (parent["name"], parent["partner_type"], parent["tier"], parent["status"]) == (
        f"{tag} Parent", "distributor", "gold", "invited"
    )  # fmt: skip
    assert (parent["admin_name"], parent["admin_email"]) == ("Pat", admin_email)
    assert (kid["parent_code"], kid["parent_name"], kid["status"]) == (f"{tag}-p", f"{tag} Parent", "active")
    assert by_code[f"{tag}-f"]["name"].startswith("=HYPERLINK")  # kept as text, never a formula
    names = {r[0] for r in rows[1:]}
    assert world.x.name in names and world.y.name in names
    assert b_name not in str(rows) and world.b.slug not in str(rows)
    assert all(b_name not in str(r) for r in rows)
    b_rows = exported(client, world.b)
    assert [r[0] for r in b_rows[1:]] == [b_name]
    assert not any(tag in str(r) or world.x.name in str(r) for r in b_rows)

    # the export is an import file: every enterprise in it exists, so nothing is created
    response = client.get("/api/interconnect/enterprises/export", headers=world.a.admin.bearer)
    again = run_import(client, world.a, "export.xlsx", response.content)
    assert again["errors"] == [] and again["created_count"] == 0, again
    assert again["skipped_count"] == len(rows) - 1


# --- the command line -------------------------------------------------------------------------------


def test_cli_import_shows_progress_and_a_summary_and_export_writes_a_workbook(tmp_path: Path) -> None:
    created = portal(
        tmp_path, "tenant", "create", "--name", "Acme", "--slug", "acme-import", "--admin-email", "a@acme.example",
        "--admin-name", "Ann", "--password", "long enough password",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    file = tmp_path / "partners.csv"
    file.write_bytes(
        csv_bytes(
            [
                row("North Supply", "north", "distributor", admin_name="Nora", admin_email="nora@north.example"),
                row("North Store", "north-1", "store", parent_code="north"),
                row("Broken", "broken", admin_name="Bo", admin_email="bo-at-example"),
            ]
        )
    )
    refused = portal(tmp_path, "partners", "import", str(file), "--workspace", "acme-import")
    assert refused.returncode == 1
    assert "[" + "#" * 30 + "] 3/3" in refused.stderr  # the progress bar, finished
    assert "row 4, admin_email: is not a valid email address: bo-at-example" in refused.stderr
    assert "nothing was imported" in refused.stderr and "created 0" in refused.stdout

    partial = portal(tmp_path, "partners", "import", str(file), "--workspace", "acme-import", "--mode", "valid_rows")
    assert partial.returncode == 1, partial.stderr
    assert "created 2, skipped 0" in partial.stdout and "1 row with errors" in partial.stdout
    assert "row 2  nora@north.example  http" in partial.stdout and "/setup/" in partial.stdout
    assert "row 4, admin_email" in partial.stderr

    again = portal(tmp_path, "partners", "import", str(file), "--workspace", "acme-import", "--mode", "valid_rows")
    assert "created 0, skipped 2" in again.stdout, again.stdout

    output = tmp_path / "enterprises.xlsx"
    export = portal(tmp_path, "partners", "export", "--workspace", "acme-import", "-o", str(output))
    assert export.returncode == 0, export.stderr
    sheet = openpyxl.load_workbook(output).worksheets[0]
    assert sorted(r[0] for r in sheet.iter_rows(min_row=2, values_only=True)) == ["North Store", "North Supply"]

    wrong = portal(tmp_path, "partners", "import", str(file), "--workspace", "nobody-here")
    assert wrong.returncode != 0 and "no workspace 'nobody-here'" in wrong.stderr
    text_file = tmp_path / "partners.txt"
    text_file.write_text("name\n")
    bad = portal(tmp_path, "partners", "import", str(text_file), "--workspace", "acme-import")
    assert bad.returncode == 1 and "file: must be a .csv or .xlsx file" in bad.stderr


# --- hostile files and stored data ------------------------------------------------------------------


def test_hostile_workbooks_are_refused_naming_the_file_problem(client: TestClient, world: World) -> None:
    before = total(client, world.a)
    for what, (content, codes) in bombs().items():
        assert len(content) <= 5 * 1024 * 1024, what
        assert_refused_as_a_file_problem(upload(client, world.a, "partners.xlsx", content), codes, what)
    commas = b"name,partner_type\n" + b"," * (5 * 1024 * 1024 - 100) + b"\n"
    assert_refused_as_a_file_problem(upload(client, world.a, "partners.csv", commas), {"too_many_columns"}, "commas")
    wide = csv_bytes([[*row("Wide"), *[""] * 60, "a value in column 71"]])
    assert_refused_as_a_file_problem(upload(client, world.a, "partners.csv", wide), {"too_many_columns"}, "wide")
    assert total(client, world.a) == before


def test_stored_control_characters_and_formula_text_come_out_of_the_export(
    client: TestClient, world: World, settings: Settings
) -> None:
    shop = stored_text(settings, "Shop")
    write_directly(
        settings, world.a.tenant_id, EnterpriseLink, EnterpriseLink.id == uuid.UUID(world.x.link_id), name=shop
    )
    formula = '=HYPERLINK("http://evil.example","Y")'
    write_directly(
        settings,
        world.a.tenant_id,
        EnterpriseLink,
        EnterpriseLink.id == uuid.UUID(world.y.link_id),
        name=formula,
        contact_phone="+1-555\x02",
    )
    api = exported_values(client.get("/api/interconnect/enterprises/export", headers=world.a.admin.bearer))
    act_as(client, world.a.admin.cookie)
    page = exported_values(client.get("/console/partners/export.xlsx"))
    for rows in (api, page):
        by_name = {row[0]: row for row in rows[1:]}
        assert shown(shop) in by_name and by_name[formula][6] == "+1-555\ufffd"
