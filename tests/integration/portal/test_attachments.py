"""Attachments through HTTP on both lanes: an upload is checked and stored, and a stored file is served
only to whom the owning feature allows, never across tenants, with headers that keep a browser from
running it. A test component plays the owning feature: staff of the tenant may read its notes' files."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from litestar import Litestar, delete, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, MultipartBody
from litestar.status_codes import HTTP_204_NO_CONTENT
from litestar.testing import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from portal.actor import Actor
from portal.components import Component
from portal.http.app import create_app
from portal.http.deps import DB, CurrentActor, ServicesDep
from portal.permissions import requires
from portal.storage.attachments import AttachmentOwner
from portal.storage.schemas import AttachmentOut
from portal.storage.uploads import IMAGES_AND_DOCUMENTS, UPLOAD_BODY_LIMIT, read_upload
from tests import files
from tests.conftest import BASE_URL, make_settings
from tests.notifications import Workers
from tests.world import World

NOTE = "test.note"
LIMIT = 256 * 1024


async def staff_may_read(db: AsyncSession, actor: Actor, note_id: uuid.UUID) -> bool:
    return actor.kind == "internal"


@dataclass
class FileUpload:
    file: UploadFile | None = None


@post(
    "/api/test-notes/{note_id:uuid}/files", opt=requires("workspace", "update"), request_max_body_size=UPLOAD_BODY_LIMIT
)
async def upload_note_file(
    note_id: FromPath[uuid.UUID], data: MultipartBody[FileUpload], db: DB, actor: CurrentActor, services: ServicesDep
) -> AttachmentOut:
    content, name = await read_upload(data.file)
    saved = await services.attachments.save(db, actor, content, name, IMAGES_AND_DOCUMENTS, NOTE, note_id)
    return AttachmentOut.of(saved)


@delete(
    "/api/test-notes/files/{attachment_id:uuid}", opt=requires("workspace", "update"), status_code=HTTP_204_NO_CONTENT
)
async def delete_note_file(
    attachment_id: FromPath[uuid.UUID], db: DB, actor: CurrentActor, services: ServicesDep
) -> None:
    await services.attachments.delete(db, await services.attachments.readable(db, actor, attachment_id))


@pytest.fixture(scope="module")
def files_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def notes_app(database_url: str, files_dir: Path) -> Litestar:
    component = Component(
        name="test-notes",
        route_handlers=[upload_note_file, delete_note_file],
        attachment_owners=[AttachmentOwner(NOTE, staff_may_read)],
    )
    settings = make_settings(database_url, data_dir=files_dir, upload_max_bytes=LIMIT)
    return create_app(settings, extra_components=[component])


@pytest.fixture
def notes(notes_app: Litestar, world: World) -> Iterator[TestClient]:
    with TestClient(notes_app, base_url=BASE_URL) as client:
        yield client


def upload(client: TestClient, bearer: dict[str, str], content: bytes, name: str, media_type: str) -> object:
    return client.post(
        f"/api/test-notes/{uuid.uuid4()}/files", headers=bearer, files={"file": (name, content, media_type)}
    )


def stored_files(root: Path) -> list[Path]:
    return [p for p in (root / "files").rglob("*") if p.is_file()]


def test_a_photo_is_stored_without_its_metadata_and_served_to_its_tenants_staff_only(
    notes: TestClient, world: World
) -> None:
    response = upload(notes, world.a.admin.bearer, files.jpeg_with_gps(), "现场照片.JPG", "image/jpeg")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["name"], body["content_type"]) == ("现场照片.jpg", "image/jpeg")

    served = notes.get(body["url"], headers=world.a.admin.bearer)
    assert served.status_code == 200
    assert b"PhoneMaker" not in served.content and hashlib.sha256(served.content).hexdigest() == body["sha256"]
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    policy = served.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert served.headers["content-disposition"].startswith("inline; ")
    assert "filename*=UTF-8''%E7%8E%B0" in served.headers["content-disposition"]
    assert served.headers["cache-control"].startswith("private")
    assert (
        notes.get(body["url"] + "?download=true", headers=world.a.admin.bearer)
        .headers["content-disposition"]
        .startswith("attachment; ")
    )

    page = notes.get(f"/attachments/{body['id']}", headers={"Cookie": f"portal_session={world.a.admin.cookie}"})
    assert page.status_code == 200 and page.content == served.content

    # tenant B, by token or by page, and tenant A's own partner (whom the note's owner does not allow)
    assert notes.get(body["url"], headers=world.b.admin.bearer).status_code == 404
    other_page = notes.get(f"/attachments/{body['id']}", headers={"Cookie": f"portal_session={world.b.admin.cookie}"})
    assert other_page.status_code == 404 and served.content not in other_page.content
    assert notes.get(body["url"], headers=world.x.admin.bearer).status_code == 403  # the staff's API
    assert notes.get(f"/api/partner/attachments/{body['id']}", headers=world.x.admin.bearer).status_code == 404
    assert notes.get(body["url"]).status_code == 401


def test_a_hostile_file_is_refused_with_what_is_wrong_and_nothing_is_stored(
    notes: TestClient, world: World, files_dir: Path
) -> None:
    before = stored_files(files_dir)
    refused = upload(notes, world.a.admin.bearer, files.HTML, "photo.jpg", "image/jpeg")
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert (error["field"], error["code"]) == ("file", "type_not_allowed")
    assert "an HTML document" in error["message"]

    big = files.pdf(b"%" + b"x" * LIMIT + b"\n")
    too_large = upload(notes, world.a.admin.bearer, big, "big.pdf", "application/pdf")
    assert too_large.status_code == 422 and too_large.json()["errors"][0]["code"] == "too_large"
    empty = upload(notes, world.a.admin.bearer, b"", "empty.png", "image/png")
    assert empty.status_code == 422 and empty.json()["errors"][0]["code"] == "empty"
    missing = notes.post(f"/api/test-notes/{uuid.uuid4()}/files", headers=world.a.admin.bearer, files={"x": b"1"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "file"
    assert stored_files(files_dir) == before


def test_a_pdf_is_always_a_download(notes: TestClient, world: World) -> None:
    body = upload(notes, world.a.admin.bearer, files.pdf(), "报价单.pdf", "application/octet-stream").json()
    served = notes.get(body["url"], headers=world.a.admin.bearer)
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"] == (
        "attachment; filename=\"___.pdf\"; filename*=UTF-8''%E6%8A%A5%E4%BB%B7%E5%8D%95.pdf"
    )


def test_without_the_owning_feature_nobody_may_read_a_file(notes: TestClient, client: TestClient, world: World) -> None:
    """The application without the test component has no owner for these files: the kernel never
    decides alone, so even the uploader's own admin gets 404."""
    body = upload(notes, world.a.admin.bearer, files.webp(), "a.webp", "image/webp").json()
    assert notes.get(body["url"], headers=world.a.admin.bearer).status_code == 200
    assert client.get(body["url"], headers=world.a.admin.bearer).status_code == 404


def test_a_deleted_file_is_gone_at_once_and_its_bytes_once_the_workers_ran(
    notes: TestClient, notes_app: Litestar, world: World, files_dir: Path
) -> None:
    body = upload(notes, world.a.admin.bearer, files.png(), "a.png", "image/png").json()
    [path] = [p for p in stored_files(files_dir) if p.stem == body["id"]]
    assert notes.delete(f"/api/test-notes/files/{body['id']}", headers=world.b.admin.bearer).status_code == 404
    assert notes.delete(f"/api/test-notes/files/{body['id']}", headers=world.a.admin.bearer).status_code == 204
    assert notes.get(body["url"], headers=world.a.admin.bearer).status_code == 404
    assert path.exists()
    assert Workers(notes_app).run(only="storage.objects") == []
    assert not path.exists()
