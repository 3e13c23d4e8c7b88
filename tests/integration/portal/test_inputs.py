"""Hostile text and numbers at every input: a 4xx naming the field, the same answer on both databases.

Routes and their schemas are read from the application, so a route or a field added later is covered here
without anyone adding a case.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest
from litestar import Litestar
from litestar.params import KwargDefinition
from litestar.testing import TestClient

from portal.http.inputs import INT32_MAX, INT32_MIN, MULTILINE, request_schemas
from tests.integration.interconnect.support import accept, create_invitation, token_of
from tests.integration.portal.test_errors import problem
from tests.integration.web.test_pages import act_as
from tests.isolation.harness import RouteCase, route_cases
from tests.world import World, csrf_token, unique

PARAM = re.compile(r"\{(\w+):(\w+)\}")
CONTROL = "\u0001"


def fill(template: str) -> str:
    return PARAM.sub(lambda m: str(uuid.uuid4()) if m.group(2) == "uuid" else "x", template)


def leaves(t: mi.Type, multiline: bool = False) -> Iterator[tuple[mi.Type, bool]]:
    """The scalar types a schema type may hold, each with whether it is declared multi-line."""
    if isinstance(t, mi.Metadata):
        yield from leaves(t.type, multiline or bool((t.extra or {}).get(MULTILINE)))
    elif isinstance(t, mi.UnionType):
        for member in t.types:
            yield from leaves(member, multiline)
    elif isinstance(t, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
        yield from leaves(t.item_type, multiline)
    elif isinstance(t, mi.DictType):
        yield from leaves(t.key_type, multiline)
        yield from leaves(t.value_type, multiline)
    elif isinstance(t, mi.StructType):
        for f in t.fields:
            yield from leaves(f.type, multiline)
    else:
        yield t, multiline


def is_list(t: mi.Type) -> bool:
    return any(isinstance(m, mi.ListType) for m in (t.types if isinstance(t, mi.UnionType) else (t,)))


def _holding(f: Any, wrap: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def build(body: Any) -> Any:
        return wrap({f.encode_name: [body] if is_list(f.type) else body})

    return build


def probes(struct: mi.StructType, wrap: Callable[[Any], Any] = lambda body: body) -> Iterator[tuple[Any, Any]]:
    """Each field of a body, nested ones too (a batch's items): the field and how a body holding only a
    value of it is built."""
    for f in struct.fields:
        nested = struct_of(f.type)
        if nested is not None:
            yield from probes(nested, _holding(f, wrap))
        else:
            yield f, (lambda value, f=f, w=wrap: w({f.encode_name: value}))


def struct_of(t: mi.Type) -> mi.StructType | None:
    for member in t.types if isinstance(t, mi.UnionType) else (t,):
        if isinstance(member, mi.StructType):
            return member
        if isinstance(member, mi.ListType):
            return struct_of(member.item_type)
    return None


def json_bodies(app: Litestar) -> list[tuple[str, str, mi.StructType, bool]]:
    """(method, path, body schema, is a list of them) of every API route that reads a JSON body."""
    found = []
    paths = {id(h): route.path for route in app.routes for h in getattr(route, "route_handlers", ())}
    for handler, annotation in request_schemas(app):
        info = mi.type_info(annotation)
        struct = struct_of(info)
        if struct is None or not paths[id(handler)].startswith("/api/"):
            continue
        for method in handler.http_methods - {"HEAD", "OPTIONS"}:
            found.append((method, fill(paths[id(handler)]), struct, isinstance(info, mi.ListType)))
    return found


def test_every_integer_a_request_sends_is_bounded(app: Litestar) -> None:
    """Bodies and query strings alike: PostgreSQL refuses 2**31 in a 32-bit column and 2**63 as an offset,
    SQLite stores or overflows, so the bounds are stated in the schema and the lanes answer alike."""
    unbounded = []
    for handler, annotation in request_schemas(app):
        for leaf, _ in leaves(mi.type_info(annotation)):
            if isinstance(leaf, mi.IntType) and not (
                leaf.ge is not None and leaf.ge >= INT32_MIN and leaf.le is not None and leaf.le <= INT32_MAX
            ):
                unbounded.append(f"{handler.handler_name}: {annotation}")
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            for name, parameter in handler.parsed_fn_signature.parameters.items():
                if not parameter.is_subclass_of(int) or parameter.is_subclass_of(bool):
                    continue
                bound = parameter.kwarg_definition
                if name in route.path_parameters:
                    continue
                if not (
                    isinstance(bound, KwargDefinition)
                    and bound.le is not None
                    and bound.le <= INT32_MAX
                    and (bound.ge is not None and bound.ge >= INT32_MIN)
                ):
                    unbounded.append(f"{route.path} ?{name}")
    assert not unbounded
    assert len(list(request_schemas(app))) > 40  # the enumeration found the application's routes


def test_every_string_of_every_body_refuses_control_characters(app: Litestar, client: TestClient) -> None:
    """Each string field of each JSON body, alone: a control character is a 422 naming it; tab and newline
    only where the schema declares the field multi-line. The check comes before the handler, so no
    credential is needed to see it."""
    checked = 0
    for method, path, struct, many in json_bodies(app):
        for f, build in probes(struct):
            kinds = list(leaves(f.type))
            if not any(isinstance(leaf, mi.StrType) for leaf, _ in kinds):
                continue
            multiline = any(m for leaf, m in kinds if isinstance(leaf, mi.StrType))
            for value, refused in ((f"x{CONTROL}", True), ("x\u0000", True), ("a\nb\tc", not multiline)):
                body: Any = build(value)
                response = client.request(method, path, json=[body] if many else body)
                errors = response.json().get("errors", []) if response.status_code == 422 else []
                named = any(e["field"].endswith(f.encode_name) and e["code"] == "control_character" for e in errors)
                assert named == refused, (method, path, f.name, value, response.status_code, response.text)
            checked += 1
    assert checked > 100


def test_every_page_form_refuses_control_characters(app: Litestar, client: TestClient) -> None:
    """Every page that takes a form, before the CSRF check and the handler: a readable 422 page."""
    pages = [c for c in route_cases(app) if c.method == "POST" and not c.api]
    assert len(pages) > 30
    for case in pages:
        response = client.post(fill(case.template), data={"probe": f"Shop{CONTROL}"}, follow_redirects=False)
        assert response.status_code == 422, (case.template, response.status_code)
        assert "probe" in response.text and "must be one line without control characters" in response.text
        # a textarea's lines pass this check (and then meet the CSRF check)
        response = client.post(fill(case.template), data={"note": "first\r\nsecond"}, follow_redirects=False)
        assert response.status_code != 422, case.template


def test_hostile_text_is_refused_and_nothing_is_stored(client: TestClient, world: World) -> None:
    admin = world.a.admin.bearer
    invitation = create_invitation(client, world.a, kind="code")
    joined = accept(client, workspace=world.a.slug, code=invitation["code"], enterprise_name=f"Shop{CONTROL}")
    assert problem(joined, 422, "validation_failed")["errors"][0]["field"] == "enterprise_name"
    names = client.get("/api/interconnect/enterprises", headers=admin, params={"limit": 200}).json()["items"]
    assert not any(CONTROL in e["name"] for e in names)

    deal = client.post("/api/partner/deals", headers=world.x.admin.bearer, json={"customer_name": "Cust\u0002"})
    assert problem(deal, 422, "validation_failed")["errors"][0]["field"] == "customer_name"
    # a body is read as JSON whatever type it declares, so it is checked whatever type it declares
    sneaked = client.post(
        "/api/partner/deals",
        headers={**world.x.admin.bearer, "Content-Type": "text/plain"},
        content=b'{"customer_name": "Cust\\u0002"}',
    )
    assert problem(sneaked, 422, "validation_failed")["errors"][0]["field"] == "customer_name"
    deals = client.get("/api/agent/deals", headers=admin, params={"limit": 200}).json()["items"]
    assert not any("\u0002" in d["customer_name"] for d in deals)

    # NUL in a filter: PostgreSQL cannot compare text with it, SQLite can; both refuse it now
    for path, name, credential in (
        ("/api/interconnect/enterprises", "q", admin),
        ("/api/agent/deals", "stage", admin),
        ("/api/ordering/orders", "status", admin),
        ("/api/ordering/products", "search", admin),
        ("/api/partner/ordering/orders", "search", world.x.admin.bearer),
    ):
        body = problem(client.get(path, headers=credential, params={name: "a\u0000b"}), 422, "validation_failed")
        assert body["errors"][0]["field"] == name, path
    long = client.get("/api/interconnect/enterprises", headers=admin, params={"q": "x" * 201})
    assert problem(long, 422, "validation_failed")["errors"][0]["field"] == "q"
    # the unauthenticated sign-ins too
    for path, body in (
        ("/api/auth/token", {"workspace": world.a.slug, "email": "a\u0000@x.example", "password": "p"}),
        ("/api/partner/auth/token", {"workspace": world.a.slug, "login": "a\u0000", "password": "p"}),
    ):
        assert problem(client.post(path, json=body), 422, "validation_failed")["errors"][0]["field"] in body

    # a multi-line field keeps its lines
    note = "Ring twice\nthen wait"
    created = client.post(
        "/api/interconnect/invitations",
        headers=admin,
        json={"kind": "link", "partner_type_id": invitation["partner_type_id"], "note": note},
    )
    assert created.status_code == 201, created.text
    assert created.json()["note"] == note
    assert token_of(created.json())


def test_deep_nesting_and_undecodable_forms(client: TestClient, world: World) -> None:
    nested = b'{"email": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = client.post(
        "/api/users", headers={**world.a.admin.bearer, "Content-Type": "application/json"}, content=nested
    )
    problem(response, 400, "malformed_request")

    price_list = client.post(
        "/api/ordering/price-lists", headers=world.a.admin.bearer, json={"name": unique("Sheet"), "kind": "base"}
    )
    assert price_list.status_code == 201, price_list.text
    for path, credential in (
        ("/api/interconnect/imports", world.a.admin.bearer),
        (f"/api/ordering/price-lists/{price_list.json()['id']}/items/import", world.a.admin.bearer),
    ):
        response = client.post(path, headers=credential, files={"mode": (None, b"\xff\xfe"), "file": ("a.csv", b"x")})
        body = problem(response, 422, "validation_failed")
        assert body["errors"] == [{"field": "mode", "message": "is not UTF-8 text", "code": "invalid_encoding"}]
    token = csrf_token(client)
    response = client.post("/login", files={"workspace": (None, b"acme\xff"), "_csrf_token": (None, token.encode())})
    assert response.status_code == 422 and "workspace" in response.text and "is not UTF-8 text" in response.text
    # a URL-encoded form, %-escaped or raw: refused, never stored as other characters
    for encoded in (b"workspace=%FF%FE&email=a%40b.example", b"workspace=\xff\xfe&email=a%40b.example"):
        response = client.post(
            "/login",
            content=encoded + b"&_csrf_token=" + token.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 422 and "workspace" in response.text and "is not UTF-8 text" in response.text


def test_text_that_displays_as_other_text_is_refused(client: TestClient, world: World) -> None:
    type_id = client.get("/api/interconnect/partner-types", headers=world.a.admin.bearer).json()[0]["id"]
    for name in ("Shop\u202egnp.exe", "Shop\u2066x\u2069", "Two\u2028lines"):
        response = client.post(
            "/api/interconnect/enterprises",
            headers=world.a.admin.bearer,
            json={"name": name, "partner_type_id": type_id},
        )
        body = problem(response, 422, "validation_failed")
        assert [(e["field"], e["code"]) for e in body["errors"]] == [("name", "control_character")]


def paged_routes(app: Litestar) -> list[RouteCase]:
    paged = {
        route.path
        for route in app.routes
        for handler in getattr(route, "route_handlers", ())
        if "offset" in handler.parsed_fn_signature.parameters
    }
    return [c for c in route_cases(app) if c.method == "GET" and c.api and c.template in paged]


@pytest.mark.parametrize("offset", [str(2**63), "99999999999999999999", str(2**31)])
def test_paging_is_bounded_on_every_list(app: Litestar, client: TestClient, world: World, offset: str) -> None:
    routes = paged_routes(app)
    assert len(routes) >= 12
    for case in routes:
        credential = world.x.admin.bearer if case.template.startswith("/api/partner/") else world.a.admin.bearer
        response = client.get(case.path(world), headers=credential, params={"offset": offset})
        body = problem(response, 422, "validation_failed")
        assert [e["field"] for e in body["errors"]] == ["offset"], case.template
    ok = client.get("/api/users", headers=world.a.admin.bearer, params={"offset": 2**31 - 1, "limit": 200})
    assert ok.status_code == 200 and ok.json()["items"] == []
    problem(client.get("/api/users", headers=world.a.admin.bearer, params={"limit": 201}), 422, "validation_failed")


def test_numbers_fit_their_32_bit_columns(client: TestClient, world: World) -> None:
    admin = world.a.admin.bearer
    types = client.get("/api/interconnect/partner-types", headers=admin).json()
    warehouse = client.post("/api/ordering/warehouses", headers=admin, json={"code": unique("W"), "name": "W"})
    product = client.post("/api/ordering/products", headers=admin, json={"sku": unique("SKU"), "name": "P"})
    assert warehouse.status_code == 201 and product.status_code == 201, (warehouse.text, product.text)
    stock = f"/api/ordering/warehouses/{warehouse.json()['id']}/stock/{product.json()['id']}"
    cases = (
        ("POST", "/api/interconnect/tiers", {"code": unique("t"), "name": "T"}, "rank"),
        ("POST", "/api/interconnect/invitations", {"kind": "link", "partner_type_id": types[0]["id"]}, "max_uses"),
        ("POST", "/api/ordering/categories", {"code": unique("c"), "name": "C"}, "sort_order"),
        ("PUT", stock, {}, "on_hand"),
    )
    for method, path, body, field in cases:
        for too_big in (2**31, 2**63):
            response = client.request(method, path, headers=admin, json={**body, field: too_big})
            errors = problem(response, 422, "validation_failed")["errors"]
            assert [e["field"] for e in errors] == [field], (path, errors)
    # the largest 32-bit number is kept, on both databases
    tier = client.post(
        "/api/interconnect/tiers", headers=admin, json={"code": unique("t"), "name": "T", "rank": INT32_MAX}
    )
    assert tier.status_code == 201 and tier.json()["rank"] == INT32_MAX, tier.text

    # the console's form says so on the page
    client.cookies.set("portal_session", world.a.admin.cookie)
    token = csrf_token(client, "/console/partners/programme")
    page = client.post(
        "/console/partners/programme/tiers",
        data={"code": unique("t"), "name": "Page tier", "rank": str(2**31), "_csrf_token": token},
    )
    assert page.status_code == 422, page.text
    assert "must be at most 2147483647" in page.text
    assert msgspec.json.decode(client.get("/api/interconnect/tiers", headers=admin).content)


def test_every_date_a_request_sends_is_plausible(app: Litestar, client: TestClient, world: World) -> None:
    """Every date field of every JSON body and every date query parameter: a year 1 or 9999 is a 422
    naming the field (out_of_range), before the handler; a date within 1970-2100 passes this check."""
    checked = 0
    for method, path, struct, many in json_bodies(app):
        for f, build in probes(struct):
            if not any(isinstance(leaf, mi.DateType | mi.DateTimeType) for leaf, _ in leaves(f.type)):
                continue
            for value, refused in (("0001-01-01", True), ("9999-12-31", True), ("2100-12-31", False)):
                body: Any = build(value)
                response = client.request(method, path, json=[body] if many else body)
                errors = response.json().get("errors", []) if response.status_code == 422 else []
                named = any(e["field"].endswith(f.encode_name) and e["code"] == "out_of_range" for e in errors)
                assert named == refused, (method, path, f.name, value, response.status_code, response.text)
            checked += 1
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            for name, parameter in handler.parsed_fn_signature.parameters.items():
                if name == "data" or not (parameter.is_subclass_of(date) or parameter.is_subclass_of(datetime)):
                    continue
                for value in ("0001-01-01", "9999-12-31T23:59:59Z"):
                    response = client.get(fill(route.path), params={name: value}, headers=world.a.admin.bearer)
                    assert response.status_code == 422, (route.path, name, value, response.text)
                    [error] = response.json()["errors"]
                    assert (error["field"], error["code"]) == (name, "out_of_range"), error
                    assert error["message"] == "must be a date from 1970-01-01 to 2100-12-31"
                checked += 1
    assert checked >= 12


def test_pages_refuse_implausible_dates_with_a_readable_answer(client: TestClient, world: World) -> None:
    """A date filter of a page: a readable 422 naming the field, not a failure (a day after 9999-12-31
    does not exist) nor a silently ignored filter."""
    act_as(client, world.a.admin.cookie)
    for params in ({"until": "9999-12-31"}, {"since": "0001-01-01"}):
        page = client.get("/console/deliveries/list", params=params)
        assert page.status_code == 422 and "must be a date from 1970-01-01 to 2100-12-31" in page.text, page.text
    assert client.get("/console/deliveries/list", params={"until": "2100-12-31"}).status_code == 200


def test_a_refused_form_leads_back_to_its_page(client: TestClient, world: World) -> None:
    """Text the kernel refuses before any handler reads the form: the answer names the field as the form
    sends it and links back to the form's page, where the browser keeps what was typed."""
    act_as(client, world.a.admin.cookie)
    form_page = "/console/partners/new"
    token = csrf_token(client, form_page)
    refused = client.post(
        form_page,
        data={"name": "Bad\x07name", "_csrf_token": token},
        headers={"Referer": f"{client.base_url}{form_page}?parent="},
        follow_redirects=False,
    )
    assert refused.status_code == 422
    assert "<code>name</code>" in refused.text and f'href="{form_page}?parent="' in refused.text
    # a page of another site is never linked
    elsewhere = client.post(
        form_page,
        data={"name": "Bad\x07name", "_csrf_token": token},
        headers={"Referer": "https://evil.example/console/partners/new"},
        follow_redirects=False,
    )
    assert elsewhere.status_code == 422 and "evil.example" not in elsewhere.text


def scalar_kinds(t: mi.Type) -> set[type]:
    """The kinds of value a field itself takes (not what a list or mapping in it holds), null left out."""
    if isinstance(t, mi.Metadata):
        return scalar_kinds(t.type)
    if isinstance(t, mi.UnionType):
        return set().union(*(scalar_kinds(m) for m in t.types))
    return set() if isinstance(t, mi.NoneType) else {type(t)}


def test_every_number_and_flag_of_every_body_is_read_strictly(app: Litestar, client: TestClient) -> None:
    """Each integer, number and boolean field of each JSON body, alone: a string ("5", "true") or a
    fraction for an integer is a 422 naming the field, before the handler, though the framework's own
    reading would convert it; the value itself passes this check."""
    checked = 0
    for method, path, struct, many in json_bodies(app):
        for f, build in probes(struct):
            kinds = scalar_kinds(f.type)
            if kinds == {mi.IntType}:
                cases = (("5", "not_a_number"), (5.5, "not_a_number"), (True, "not_a_number"), (5, None))
            elif kinds == {mi.BoolType}:
                cases = (("true", "invalid"), (1, "invalid"), (True, None))
            else:
                continue
            for value, code in cases:
                body: Any = build(value)
                response = client.request(method, path, json=[body] if many else body)
                errors = response.json().get("errors", []) if response.status_code == 422 else []
                named = [e["code"] for e in errors if e["field"].endswith(f.encode_name)]
                if code is None:
                    assert "not_a_number" not in named and "invalid" not in named, (method, path, f.name, errors)
                else:
                    assert named == [code], (method, path, f.name, value, response.status_code, response.text)
            checked += 1
    assert checked > 20


def test_a_string_is_not_a_number_anywhere(client: TestClient, world: World) -> None:
    """Signed in, on a real write: "5" for an integer is refused naming the field (nested ones by their
    place), nothing is written, and the same body with 5 is taken."""
    admin = world.a.admin.bearer
    body = {"code": unique("t"), "name": "Strict tier"}
    wrong = client.post("/api/interconnect/tiers", headers=admin, json={**body, "rank": "5"})
    [error] = problem(wrong, 422, "validation_failed")["errors"]
    assert (error["field"], error["code"], error["message"]) == ("rank", "not_a_number", "must be a whole number")
    tiers = client.get("/api/interconnect/tiers", headers=admin).json()
    assert body["code"] not in {t["code"] for t in tiers}
    made = client.post("/api/interconnect/tiers", headers=admin, json={**body, "rank": 5})
    assert made.status_code == 201 and made.json()["rank"] == 5, made.text
    # a nested field is named by its place
    lines = [{"product_id": str(uuid.uuid4()), "quantity": 1}, {"product_id": str(uuid.uuid4()), "quantity": "2"}]
    nested = client.post("/api/partner/service/parts/requests", headers=world.x.admin.bearer, json={"lines": lines})
    [error] = problem(nested, 422, "validation_failed")["errors"]
    assert (error["field"], error["code"]) == ("lines[1].quantity", "not_a_number")
