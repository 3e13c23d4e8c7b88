"""The OpenAPI document tells the truth: schemathesis generates requests for every operation from the
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

from tests.conftest import BASE_URL
from tests.world import World

EXAMPLES_PER_OPERATION = 2
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Ending the session under test would turn every later request into a 401.
LEFT_OUT = {("POST", "/api/auth/logout")}


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
