"""The OpenAPI document tells the truth: every 2xx answer has a typed schema (each field of a JSON body
named, a file download binary), and schemathesis generates requests for every operation from the
document the app serves, sends them in process with a staff token (staff routes) and a partner token
(partner routes), and checks each answer against what the document promises."""

from __future__ import annotations

from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase, given
from litestar.testing import TestClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal.spreadsheets import XLSX_MEDIA_TYPE
from tests.conftest import BASE_URL
from tests.world import World

EXAMPLES_PER_OPERATION = 2
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Ending the session under test would turn every later request into a 401.
LEFT_OUT = {("POST", "/api/auth/logout")}
# Fields that hold any JSON by design: a record's audited snapshot, the facts behind an explanation,
# the value a sharing rule compares a record's field with, an outbox event's payload (its own per type).
FREE_FORM = {
    ("AuditEntryOut", "before"),
    ("AuditEntryOut", "after"),
    ("ReasonOut", "detail"),
    ("SharingOut", "value"),
    ("EventOut", "payload"),
    ("HandledOut", "answer"),
    # a mapped record's fields between two deployments: they are the rule's object's, whatever it maps
    ("DigestOut", "values"),
    ("DigestOut", "written"),
    # a batch's event answered as the event alone would be (an InboundOut, which is itself a union of kinds)
    ("BatchItemOut", "answer"),
}


def document_of(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/docs/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_the_document_declares_bearer_security_and_problem_details(client: TestClient) -> None:
    document = document_of(client)
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": document["components"]["securitySchemes"]["bearer"]["description"],
    }
    assert "cookie" not in str(document["components"]["securitySchemes"]).lower()
    assert all(path.startswith("/api/") or path == "/health" for path in document["paths"])
    users = document["paths"]["/api/users"]["post"]
    assert users["security"] == [{"bearer": []}]
    assert "security" not in document["paths"]["/api/auth/token"]["post"]
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}
    assert {s: users["responses"][s]["content"] for s in ("400", "401", "403", "409", "422")} == dict.fromkeys(
        ("400", "401", "403", "409", "422"), problem
    )
    assert document["paths"]["/api/auth/token"]["post"]["responses"]["429"]["content"] == problem
    assert "status_code" not in str(document)  # Litestar's own error body, which the API never sends
    upload = document["paths"]["/api/ordering/price-lists/{price_list_id}/items/import"]["post"]
    assert upload["requestBody"]["content"]["multipart/form-data"]["schema"]["required"] == ["file"]


def untyped_parts(schema: dict[str, Any], components: dict[str, Any], where: str, seen: frozenset[str]) -> list[str]:
    """Where a JSON schema leaves a body's shape open: an object without properties (a bare dict), an
    empty schema (any), or a string standing for a whole JSON body; nested schemas are searched too."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        component = components[name]
        properties = component.get("properties", {})
        found = [] if properties else untyped_parts(component, components, name, seen | {name})
        for field, sub in properties.items():
            if (name, field) not in FREE_FORM:
                found += untyped_parts(sub, components, f"{name}.{field}", seen | {name})
        return found
    for key in ("oneOf", "anyOf", "allOf"):
        if key in schema:
            return [part for sub in schema[key] for part in untyped_parts(sub, components, where, seen)]
    if schema.get("type") == "array":
        items = [*schema.get("prefixItems", []), *([schema["items"]] if "items" in schema else [])]
        return [part for sub in items for part in untyped_parts(sub, components, f"{where}[]", seen)]
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict) and extra:
        return untyped_parts(extra, components, f"{where}{{}}", seen)
    if not schema or (schema.get("type") == "object" and not schema.get("properties")):
        return [where]
    return [
        part for sub in schema.get("properties", {}).values() for part in untyped_parts(sub, components, where, seen)
    ]


def untyped_answers(document: dict[str, Any]) -> list[str]:
    """Operations whose 2xx answer is undocumented or untyped: no content (but a 204), JSON without a
    schema or with an open shape, or a JSON body documented as a string (Litestar's `bytes`), or a
    file download not documented as binary."""
    components = document["components"].get("schemas", {})
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation.get("responses", {}).items():
                if not status.startswith("2") or status == "204":
                    continue
                at = f"{method.upper()} {path} {status}"
                if not answer.get("content"):
                    found.append(f"{at}: no content")
                for media_type, content in answer.get("content", {}).items():
                    schema = content.get("schema")
                    if not schema:
                        found.append(f"{at}: no schema")
                    elif "json" not in media_type:
                        if schema != {"type": "string", "format": "binary"}:
                            found.append(f"{at}: {media_type} not binary")
                    elif schema.get("type") == "string":
                        found.append(f"{at}: a JSON body as a string")
                    else:
                        found += [
                            f"{at}: untyped {part}" for part in untyped_parts(schema, components, "body", frozenset())
                        ]
    return found


def test_every_answer_declares_its_type(client: TestClient) -> None:
    document = document_of(client)
    assert untyped_answers(document) == []
    order = document["paths"]["/api/partner/ordering/orders"]["post"]["responses"]["201"]
    assert order["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/OrderOut"}
    fields = document["components"]["schemas"]["OrderOut"]
    assert {"number", "total", "lines", "cost_price"} <= set(fields["properties"])
    assert "cost_price" not in fields["required"]  # a field rule may hide it: absent, not null
    download = document["paths"]["/api/partner/ordering/orders/export.xlsx"]["get"]["responses"]["200"]["content"]
    assert download == {XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}


def test_an_untyped_answer_is_found() -> None:
    components = {"Page": {"type": "object", "properties": {"items": {"type": "array", "items": {}}}}}
    bare = {"type": "object", "additionalProperties": {}}
    answers = {
        "/a": {"get": {"responses": {"200": {"content": {"application/json": {"schema": bare}}}}}},
        "/b": {"post": {"responses": {"201": {"content": {"application/json": {"schema": {"type": "string"}}}}}}},
        "/c": {
            "get": {
                "responses": {
                    "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Page"}}}}
                }
            }
        },
        "/d": {"get": {"responses": {"200": {"content": {XLSX_MEDIA_TYPE: {"schema": {"type": "string"}}}}}}},
        "/e": {"get": {"responses": {"200": {"description": "OK"}}}},
    }
    assert untyped_answers({"paths": answers, "components": {"schemas": components}}) == [
        "GET /a 200: untyped body",
        "POST /b 201: a JSON body as a string",
        "GET /c 200: untyped Page.items[]",
        f"GET /d 200: {XLSX_MEDIA_TYPE} not binary",
        "GET /e 200: no content",
    ]


def exchanges(client: TestClient, operation: Any, headers: dict[str, str], failures: list[str]) -> None:
    """Send EXAMPLES_PER_OPERATION generated requests to one operation; record the first failure."""

    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failing request is reported as is
    )
    @given(case=operation.as_strategy())
    def exchange(case: schemathesis.Case) -> None:
        try:
            sent = case.as_transport_kwargs(base_url=BASE_URL, headers=headers)
            data = sent.get("data")
            request = client.build_request(
                sent["method"],
                sent["url"],
                headers=sent.get("headers"),
                params=sent.get("params"),
                content=data if isinstance(data, (bytes, str)) else None,
                data=data if isinstance(data, dict) else None,
                json=sent.get("json"),
                files=sent.get("files"),
            )
            request.read()  # a multipart body is streamed otherwise, and the checks read what was sent
            response = client.send(request)
            case.validate_response(response, checks=CHECKS, headers=sent.get("headers"))
        except (Exception, BaseExceptionGroup) as error:  # schemathesis reports findings as exception groups
            failures.append(f"{case.method} {case.formatted_path}: {str(error)[:900] or repr(error)}")
            raise

    recorded = len(failures)
    try:
        exchange()
    except (Exception, BaseExceptionGroup) as error:  # every operation is tried before the test reports
        if len(failures) == recorded:  # raised by hypothesis itself (flaky, health check, …)
            failures.append(f"{operation.method.upper()} {operation.path}: {error!r}"[:900])


def test_every_operation_answers_as_its_document_says(client: TestClient, world: World) -> None:
    schema = schemathesis.openapi.from_dict(document_of(client))
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in LEFT_OUT:
            continue
        operations += 1
        token = world.x.admin if operation.path.startswith("/api/partner/") else world.a.admin
        headers = token.bearer if operation.definition.raw.get("security") else {}
        exchanges(client, operation, headers, failures)
    assert operations >= 100
    assert failures == [], "\n\n".join(failures)
